package light

// StoreDir exposes where a client keeps its store, for tests that reopen it.
func (c *Client) StoreDir() string { return c.storeDir }
