// Package ui is the tray app and the manager window (fyne): a thin client of
// the agent that holds no authoritative state. Only ui and main import fyne.
//
// It is empty until the tray issue lands; the agent, its CLI and the control
// socket it will use work today.
package ui
