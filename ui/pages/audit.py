from ui.audit_page import render

render()
