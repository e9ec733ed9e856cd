from ui.history import render

render()
