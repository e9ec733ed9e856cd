from ui.result import render

render()
