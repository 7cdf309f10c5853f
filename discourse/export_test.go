package discourse

// WaitersForTest reports how many callers wait on the running fetch of
// topic id, so the coalescing test can release the fake only once every
// caller has joined, without sleeping.
func (c *Cache) WaitersForTest(id int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.inflight[id]; ok {
		return f.waiters
	}
	return 0
}

// SiteWaitersForTest is WaitersForTest for the site fetch.
func (c *Cache) SiteWaitersForTest() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.siteCall != nil {
		return c.siteCall.waiters
	}
	return 0
}

// HiddenTagsWaitersForTest is WaitersForTest for the tag-group fetch.
func (c *Cache) HiddenTagsWaitersForTest() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hiddenCall != nil {
		return c.hiddenCall.waiters
	}
	return 0
}
