from ui.evidence import render

render()
