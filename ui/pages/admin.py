from ui.admin import render

render()
