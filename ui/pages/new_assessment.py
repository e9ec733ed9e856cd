from ui.wizard import render

render()
