package agent

// RegisteredURL returns the URL of the server registered as name in home
// (servers.json), or *NotFoundError. It reads no secret and needs no agent,
// only the registry every process of the home reads fresh (see registry).
//
// Why: `mcpauth connect NAME` needs the URL before it can relay anything.
// Over the control socket the only way was API.List, which reads two
// keychain items per registered server in the agent: with the agent
// running, that made connect's spawn → initialize about 10 ms slower than
// without it, and more with every server added (docs/benchmarks.md).
func RegisteredURL(home, name string) (string, error) {
	e, err := registry{home: home}.get(name)
	if err != nil {
		return "", err
	}
	return e.Config.URL, nil
}

// RegisteredURLs returns every registered server's URL by name, as
// RegisteredURL reads them (`mcpauth connect URL` looks for its URL there).
func RegisteredURLs(home string) (map[string]string, error) {
	f, err := registry{home: home}.load()
	if err != nil {
		return nil, err
	}
	urls := make(map[string]string, len(f.Servers))
	for name, e := range f.Servers {
		urls[name] = e.Config.URL
	}
	return urls, nil
}
