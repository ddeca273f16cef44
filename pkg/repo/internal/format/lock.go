package format

import (
	"encoding/json"
	"fmt"
	"time"
)

// MaxLockSize bounds a lock file a reader will parse.
const MaxLockSize = 64 << 10

// Lock is the content of a lock file (plain JSON, not sealed, so that
// break-lock and lock listing work without the key).
type Lock struct {
	Hostname  string    `json:"hostname"`
	Username  string    `json:"username"`
	PID       int       `json:"pid"`
	Exclusive bool      `json:"exclusive"`
	Time      time.Time `json:"time"` // when this lock file was written (created or refreshed)
	Nonce     string    `json:"nonce"`
}

// EncodeLock returns a lock file's bytes.
func EncodeLock(l *Lock) ([]byte, error) {
	b, err := json.Marshal(l)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DecodeLock parses a lock file.
func DecodeLock(data []byte) (*Lock, error) {
	if len(data) > MaxLockSize {
		return nil, fmt.Errorf("%w: lock file is %d bytes", ErrMalformed, len(data))
	}
	var l Lock
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("%w: lock file: %v", ErrMalformed, err)
	}
	if l.Time.IsZero() || l.PID < 0 {
		return nil, fmt.Errorf("%w: lock file: missing time or bad pid", ErrMalformed)
	}
	return &l, nil
}
