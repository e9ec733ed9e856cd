from ui.exchange_page import render

render()
