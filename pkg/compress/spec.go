package compress

import (
	"fmt"
	"strconv"
	"strings"
)

// Zstd level bounds and default, as in the zstd command line tool and borg.
const (
	MinZstdLevel     = 1
	MaxZstdLevel     = 22
	DefaultZstdLevel = 3
)

// autoThreshold is the LZ4 ratio (in percent) below which an "auto" spec
// considers a chunk compressible.
const autoThreshold = 97

// Spec is a compression setting. Its text form follows borg's --compression:
//
//	none          store raw
//	lz4           LZ4 (the default)
//	s2            S2
//	zstd          zstd at level 3
//	zstd,N        zstd at level N, 1..22
//	auto,C        C in lz4|s2|zstd; auto,zstd,N sets the zstd level
//
// With Auto set, each chunk is first compressed with LZ4 as a cheap
// compressibility test; only chunks that LZ4 shrinks below 97% of their size
// are compressed with Codec, all others are stored raw.
//
// Level is used only by Zstd; zero there means [DefaultZstdLevel]. The zero
// Spec means "none".
type Spec struct {
	Codec Codec
	Level int
	Auto  bool
}

// Default returns the default compression, lz4 (as in borg).
func Default() Spec {
	return Spec{Codec: LZ4}
}

// ParseSpec parses the text form described at [Spec]. Surrounding spaces and
// letter case are ignored. Errors wrap [ErrInvalidSpec] and quote the input,
// e.g. `compression "zstd,40": level must be 1..22`.
func ParseSpec(s string) (Spec, error) {
	fail := func(format string, args ...any) (Spec, error) {
		return Spec{}, fmt.Errorf("%w: compression %q: %s", ErrInvalidSpec, s, fmt.Sprintf(format, args...))
	}
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s)), ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	var spec Spec
	if parts[0] == "auto" {
		spec.Auto = true
		parts = parts[1:]
		if len(parts) == 0 {
			return fail("auto needs a codec: auto,lz4, auto,s2 or auto,zstd[,N]")
		}
	}
	switch parts[0] {
	case "none":
		if spec.Auto {
			return fail("auto needs a compressing codec: lz4, s2 or zstd")
		}
		spec.Codec = None
	case "lz4":
		spec.Codec = LZ4
	case "s2":
		spec.Codec = S2
	case "zstd":
		spec.Codec = Zstd
		spec.Level = DefaultZstdLevel
	case "":
		return fail("empty; want none, lz4, s2, zstd[,N] or auto,C")
	default:
		return fail("unknown codec %q; want none, lz4, s2, zstd[,N] or auto,C", parts[0])
	}
	switch {
	case len(parts) == 1:
		return spec, nil
	case len(parts) > 2:
		return fail("too many fields")
	case spec.Codec != Zstd:
		return fail("%s takes no level", spec.Codec)
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil {
		return fail("level %q is not a number", parts[1])
	}
	if n < MinZstdLevel || n > MaxZstdLevel {
		return fail("level must be %d..%d", MinZstdLevel, MaxZstdLevel)
	}
	spec.Level = n
	return spec, nil
}

// Validate reports whether s is a setting [ParseSpec] could have produced
// (a Zstd level of 0 counts as the default). [Compress] accepts invalid
// specs too, see there. Errors wrap [ErrInvalidSpec].
func (s Spec) Validate() error {
	switch {
	case !s.Codec.known():
		return fmt.Errorf("%w: unknown codec %d", ErrInvalidSpec, s.Codec)
	case s.Auto && s.Codec == None:
		return fmt.Errorf("%w: auto needs a compressing codec", ErrInvalidSpec)
	case s.Codec == Zstd && s.Level != 0 && (s.Level < MinZstdLevel || s.Level > MaxZstdLevel):
		return fmt.Errorf("%w: zstd level %d not in %d..%d", ErrInvalidSpec, s.Level, MinZstdLevel, MaxZstdLevel)
	case s.Codec != Zstd && s.Level != 0:
		return fmt.Errorf("%w: %s takes no level", ErrInvalidSpec, s.Codec)
	}
	return nil
}

// String returns the canonical text form, which ParseSpec parses back to an
// equal Spec: "none", "lz4", "s2", "zstd,N" (always with its level), each
// optionally prefixed by "auto,".
func (s Spec) String() string {
	var b strings.Builder
	if s.Auto {
		b.WriteString("auto,")
	}
	b.WriteString(s.Codec.String())
	if s.Codec == Zstd {
		b.WriteByte(',')
		b.WriteString(strconv.Itoa(s.zstdLevel()))
	}
	return b.String()
}

// MarshalText implements encoding.TextMarshaler with the form of String.
func (s Spec) MarshalText() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler using ParseSpec.
func (s *Spec) UnmarshalText(text []byte) error {
	spec, err := ParseSpec(string(text))
	if err != nil {
		return err
	}
	*s = spec
	return nil
}

// zstdLevel returns the effective zstd level: 0 means the default, and out
// of range values are clamped.
func (s Spec) zstdLevel() int {
	switch {
	case s.Level == 0:
		return DefaultZstdLevel
	case s.Level < MinZstdLevel:
		return MinZstdLevel
	case s.Level > MaxZstdLevel:
		return MaxZstdLevel
	}
	return s.Level
}
