package fsmeta

import (
	"os/user"
	"strconv"
	"sync"
)

// The id<->name caches are package-level and live for the whole process:
// the user and group databases are small and change rarely, and a backup
// or restore looks up the same few ids millions of times. Failed lookups
// are cached too. All access goes through nameCache's mutex, so lookups are
// safe for concurrent use; the (possibly slow, NSS-backed) database query
// itself runs outside the lock.
var (
	userNames  = nameCache{lookupName: lookupUserName, lookupID: lookupUserID}
	groupNames = nameCache{lookupName: lookupGroupName, lookupID: lookupGroupID}
)

// nameCache maps ids to names and names to ids for one database (users or
// groups).
type nameCache struct {
	lookupName func(id uint32) string           // "" when unknown
	lookupID   func(name string) (uint32, bool) // false when unknown

	mu     sync.Mutex
	byID   map[uint32]string
	byName map[string]nameID
}

type nameID struct {
	id uint32
	ok bool
}

// name returns the name for id, or "" when the database does not know it.
func (c *nameCache) name(id uint32) string {
	c.mu.Lock()
	n, ok := c.byID[id]
	c.mu.Unlock()
	if ok {
		return n
	}
	n = c.lookupName(id)
	c.mu.Lock()
	if c.byID == nil {
		c.byID = make(map[uint32]string)
	}
	c.byID[id] = n
	c.mu.Unlock()
	return n
}

// id returns the id for name; ok is false when name is "" or unknown.
func (c *nameCache) id(name string) (uint32, bool) {
	if name == "" {
		return 0, false
	}
	c.mu.Lock()
	v, ok := c.byName[name]
	c.mu.Unlock()
	if ok {
		return v.id, v.ok
	}
	v.id, v.ok = c.lookupID(name)
	c.mu.Lock()
	if c.byName == nil {
		c.byName = make(map[string]nameID)
	}
	c.byName[name] = v
	c.mu.Unlock()
	return v.id, v.ok
}

// Lookup errors (unknown id, unreadable database) all mean "no name":
// metadata reading must not fail because NSS is unhappy.

func lookupUserName(id uint32) string {
	u, err := user.LookupId(strconv.FormatUint(uint64(id), 10))
	if err != nil {
		return ""
	}
	return u.Username
}

func lookupGroupName(id uint32) string {
	g, err := user.LookupGroupId(strconv.FormatUint(uint64(id), 10))
	if err != nil {
		return ""
	}
	return g.Name
}

func lookupUserID(name string) (uint32, bool) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, false
	}
	return parseID(u.Uid)
}

func lookupGroupID(name string) (uint32, bool) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, false
	}
	return parseID(g.Gid)
}

func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}
