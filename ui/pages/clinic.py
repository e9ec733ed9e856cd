from ui.clinic import render

render()
