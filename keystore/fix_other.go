//go:build !linux

package keystore

const fixText = "mcpauth needs the system keychain (macOS Keychain or Windows Credential Manager); " +
	"make sure you are logged in to a desktop session. mcpauth never falls back to storing secrets in plain files."
