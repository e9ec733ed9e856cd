from ui.patients import render

render()
