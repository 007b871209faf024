package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// showPreview draws the tray menu in a window, as fyne draws menus, with
// the first pending sign-in's submenu open beside it: for screenshots, and
// for desktops with no tray host (Options.PreviewMenu). It runs on fyne's
// thread.
func (u *ui) showPreview(entries []menuEntry) {
	objs := []fyne.CanvasObject{widget.NewMenu(fyneMenu("mcpauth", entries, u.send))}
	for _, e := range entries {
		if len(e.children) > 0 {
			objs = append(objs, container.NewVBox(widget.NewMenu(fyneMenu("", e.children, u.send))))
			break
		}
	}
	content := container.NewPadded(container.NewHBox(objs...))
	u.preview.SetContent(content)
	u.preview.Resize(content.MinSize())
	u.preview.Show()
}
