package tray

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// The tray, driven the way a desktop's tray host drives it: fyne's
// systray owns org.kde.StatusNotifierItem-<pid>-1 on the session bus even
// when no host shows it, and exports its menu as com.canonical.dbusmenu at
// /StatusNotifierMenu. Item ids are not stable across menu rebuilds: items
// are looked up by label, just before each click.

const (
	menuPath  = dbus.ObjectPath("/StatusNotifierMenu")
	menuIface = "com.canonical.dbusmenu"
)

// menuItem is one dbusmenu item.
type menuItem struct {
	ID       int32
	Label    string
	Enabled  bool
	Children []menuItem
}

// trayMenu is one process's tray menu on the session bus.
type trayMenu struct {
	conn *dbus.Conn
	name string
}

// findTray waits for process pid's StatusNotifierItem.
func findTray(ctx context.Context, conn *dbus.Conn, pid int) (*trayMenu, error) {
	want := fmt.Sprintf("org.kde.StatusNotifierItem-%d-", pid)
	for {
		var names []string
		if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.ListNames", 0).Store(&names); err != nil {
			return nil, err
		}
		for _, n := range names {
			if strings.HasPrefix(n, want) {
				return &trayMenu{conn: conn, name: n}, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no %s* on the session bus: %w", want, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// layout returns the whole menu.
func (m *trayMenu) layout(ctx context.Context) ([]menuItem, error) {
	var rev uint32
	var root dbusLayout
	err := m.conn.Object(m.name, menuPath).CallWithContext(ctx, menuIface+".GetLayout", 0, int32(0), int32(-1), []string{}).
		Store(&rev, &root)
	if err != nil {
		return nil, err
	}
	return children(root.Children), nil
}

// dbusLayout is dbusmenu's (ia{sv}av).
type dbusLayout struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

func children(vs []dbus.Variant) []menuItem {
	var out []menuItem
	for _, v := range vs {
		fields, ok := v.Value().([]any)
		if !ok || len(fields) != 3 {
			continue
		}
		id, _ := fields[0].(int32)
		props, _ := fields[1].(map[string]dbus.Variant)
		kids, _ := fields[2].([]dbus.Variant)
		it := menuItem{ID: id, Enabled: true, Children: children(kids)}
		if l, ok := props["label"]; ok {
			it.Label, _ = l.Value().(string)
		}
		if e, ok := props["enabled"]; ok {
			it.Enabled, _ = e.Value().(bool)
		}
		if t, ok := props["type"]; ok && t.Value() == "separator" {
			continue
		}
		out = append(out, it)
	}
	return out
}

// labels flattens the menu: children indented.
func labels(items []menuItem, indent string) []string {
	var out []string
	for _, it := range items {
		out = append(out, indent+it.Label)
		out = append(out, labels(it.Children, indent+"  ")...)
	}
	return out
}

// find returns the item at path (labels), if the menu has it.
func find(items []menuItem, path ...string) (menuItem, bool) {
	for _, it := range items {
		if it.Label != path[0] {
			continue
		}
		if len(path) == 1 {
			return it, true
		}
		return find(it.Children, path[1:]...)
	}
	return menuItem{}, false
}

// waitFor waits until the menu has path, and returns it.
func (m *trayMenu) waitFor(ctx context.Context, path ...string) (menuItem, error) {
	var last []string
	for {
		items, err := m.layout(ctx)
		if err == nil {
			if it, ok := find(items, path...); ok {
				return it, nil
			}
			last = labels(items, "")
		}
		select {
		case <-ctx.Done():
			return menuItem{}, fmt.Errorf("the tray menu never showed %q; it shows:\n%s", strings.Join(path, " > "), strings.Join(last, "\n"))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitGone waits until no item's label starts with prefix.
func (m *trayMenu) waitGone(ctx context.Context, prefix string) error {
	for {
		items, err := m.layout(ctx)
		if err == nil && !strings.Contains("\n"+strings.Join(labels(items, ""), "\n"), "\n"+prefix) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the tray menu still shows %q", prefix)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// click clicks the item at path, looked up now.
func (m *trayMenu) click(ctx context.Context, path ...string) error {
	it, err := m.waitFor(ctx, path...)
	if err != nil {
		return err
	}
	return m.conn.Object(m.name, menuPath).CallWithContext(ctx, menuIface+".Event", 0,
		it.ID, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix())).Err
}
