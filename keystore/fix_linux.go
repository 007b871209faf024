package keystore

const fixText = "mcpauth needs a Secret Service: install and unlock one, for example " +
	"`sudo apt install gnome-keyring` and log in to a desktop session, or in a headless shell run " +
	"`dbus-run-session -- sh -c 'printf %s \"$PASSWORD\" | gnome-keyring-daemon --unlock --components=secrets; mcpauth ...'`. " +
	"mcpauth never falls back to storing secrets in plain files."
