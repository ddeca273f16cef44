package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gobak/gobak/pkg/id"
)

// Magic is the value of the config header's "format" field.
const Magic = "gobak"

// ConfigVersion is the repository format version this package writes.
const ConfigVersion = 1

// MaxConfigSize bounds a config file a reader will parse.
const MaxConfigSize = 1 << 20

// Errors returned (wrapped) by DecodeConfigHeader.
var (
	// ErrNotGobak means the file is not a gobak config at all.
	ErrNotGobak = errors.New("not a gobak repository")
	// ErrVersion means the config is from an unknown format version.
	ErrVersion = errors.New("unsupported repository format version")
)

// Encryption modes recorded in the config header.
const (
	EncRepokey = "repokey"
	EncKeyfile = "keyfile"
	EncNone    = "none"
)

// ConfigHeader is the plaintext part of the config file. It is readable
// without a key, so tools can tell which key to ask for.
type ConfigHeader struct {
	Format     string `json:"format"`
	Version    int    `json:"version"`
	ID         id.ID  `json:"id"`
	Encryption string `json:"encryption"`
	AEAD       string `json:"aead"`
	Body       []byte `json:"body"` // sealed ConfigBody
}

// ConfigBody is the sealed part of the config.
type ConfigBody struct {
	ChunkerPolynomial uint64    `json:"chunker_polynomial"`
	ChunkerMin        uint32    `json:"chunker_min"`
	ChunkerAvg        uint32    `json:"chunker_avg"`
	ChunkerMax        uint32    `json:"chunker_max"`
	PackSize          uint32    `json:"pack_size"`
	Compression       string    `json:"compression"`
	IDKeyCheck        id.ID     `json:"id_key_check"`
	Created           time.Time `json:"created"`
}

// EncodeConfigHeader returns the config file's bytes.
func EncodeConfigHeader(h *ConfigHeader) ([]byte, error) {
	b, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DecodeConfigHeader parses and validates a config file. A file that is not
// JSON with format "gobak" gives ErrNotGobak; a version other than
// ConfigVersion gives ErrVersion.
func DecodeConfigHeader(data []byte) (*ConfigHeader, error) {
	if len(data) > MaxConfigSize {
		return nil, fmt.Errorf("%w (config is %d bytes)", ErrNotGobak, len(data))
	}
	var h ConfigHeader
	if err := json.Unmarshal(data, &h); err != nil {
		// A file that says it is a gobak config but does not decode is a
		// damaged config, not some other kind of file.
		var probe struct {
			Format string `json:"format"`
		}
		if json.Unmarshal(data, &probe) == nil && probe.Format == Magic {
			return nil, fmt.Errorf("%w: config does not decode: %v", ErrMalformed, err)
		}
		if bytes.Contains(data, []byte(`"format": "`+Magic+`"`)) || bytes.Contains(data, []byte(`"format":"`+Magic+`"`)) {
			return nil, fmt.Errorf("%w: config does not decode: %v", ErrMalformed, err)
		}
		return nil, fmt.Errorf("%w (config is not gobak JSON: %v)", ErrNotGobak, err)
	}
	if h.Format != Magic {
		return nil, fmt.Errorf("%w (config format field is %q)", ErrNotGobak, h.Format)
	}
	if h.Version != ConfigVersion {
		return nil, fmt.Errorf("%w %d (this gobak reads version %d)", ErrVersion, h.Version, ConfigVersion)
	}
	switch h.Encryption {
	case EncRepokey, EncKeyfile, EncNone:
	default:
		return nil, fmt.Errorf("%w: config: unknown encryption mode %q", ErrMalformed, h.Encryption)
	}
	if h.ID.IsNull() {
		return nil, fmt.Errorf("%w: config: missing repository id", ErrMalformed)
	}
	if len(h.Body) == 0 {
		return nil, fmt.Errorf("%w: config: missing body", ErrMalformed)
	}
	return &h, nil
}

// DecodeConfigHeaderLenient is DecodeConfigHeader for a config whose body
// may be damaged: if the file only fails because its body field does not
// decode (or is empty), the header is returned with a nil Body. Every other
// field is validated as by DecodeConfigHeader, whose error is returned
// otherwise.
func DecodeConfigHeaderLenient(data []byte) (*ConfigHeader, error) {
	h, err := DecodeConfigHeader(data)
	if err == nil || len(data) > MaxConfigSize {
		return h, err
	}
	var raw struct {
		Format     string          `json:"format"`
		Version    int             `json:"version"`
		ID         id.ID           `json:"id"`
		Encryption string          `json:"encryption"`
		AEAD       string          `json:"aead"`
		Body       json.RawMessage `json:"body"`
	}
	if json.Unmarshal(data, &raw) != nil || raw.Format != Magic || raw.Version != ConfigVersion || raw.ID.IsNull() {
		return nil, err
	}
	switch raw.Encryption {
	case EncRepokey, EncKeyfile, EncNone:
	default:
		return nil, err
	}
	return &ConfigHeader{Format: raw.Format, Version: raw.Version, ID: raw.ID, Encryption: raw.Encryption, AEAD: raw.AEAD}, nil
}

// EncodeConfigBody returns the plaintext of the sealed config body.
func EncodeConfigBody(b *ConfigBody) ([]byte, error) {
	return json.Marshal(b)
}

// DecodeConfigBody parses the config body plaintext. Range checks of the
// chunker and compression settings are left to their packages.
func DecodeConfigBody(data []byte) (*ConfigBody, error) {
	var b ConfigBody
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("%w: config body: %v", ErrMalformed, err)
	}
	if b.PackSize == 0 || b.ChunkerMax == 0 || b.IDKeyCheck.IsNull() {
		return nil, fmt.Errorf("%w: config body: missing fields", ErrMalformed)
	}
	return &b, nil
}
