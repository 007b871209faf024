// Package ui is the tray app and the manager window (fyne): a thin client
// of the agent that holds no authoritative state. Only ui and main import
// fyne.
//
// One goroutine (app.go's loop) owns the UI's state: it reads the agent
// through Backend when an event says something changed (a rebuild channel
// of size 1 turns a burst into one read, as tailscale's client/systray
// does), decides what to show with pure functions (labels.go, menu.go,
// snippets.go, addform.go, outcome.go), and hands the result to fyne.
// fyne callbacks only send actions to that loop.
package ui
