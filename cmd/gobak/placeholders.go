package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// placeholderEnv supplies the values of borg's archive name placeholders.
// The functions are called only if their placeholder is used.
type placeholderEnv struct {
	now      time.Time     // local time
	hostname func() string // the machine's host name (as os.Hostname)
	fqdn     func() string // its fully qualified name
	user     string        // the user's name
	pid      int           // this process
	uuid4    func() string // a random UUID
}

// defaultPlaceholderEnv returns the values for this process, now.
func (a *app) defaultPlaceholderEnv(now time.Time) placeholderEnv {
	host := func() string {
		h, _ := os.Hostname()
		return h
	}
	return placeholderEnv{
		now:      now,
		hostname: host,
		fqdn:     func() string { return lookupFQDN(host()) },
		user:     a.username(),
		pid:      os.Getpid(),
		uuid4:    newUUID4,
	}
}

// expandPlaceholders replaces borg's placeholders in an archive name:
// {hostname} (the short host name), {fqdn}, {user}, {pid}, {uuid4},
// {now} and {utcnow} (by default as 2006-01-02T15:04:05, or
// {now:FORMAT} with strftime directives); "{{" and "}}" stand for braces.
// Unknown placeholders and unbalanced braces are errors.
func expandPlaceholders(s string, env placeholderEnv) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '}':
			if i+1 < len(s) && s[i+1] == '}' {
				b.WriteByte('}')
				i++
				continue
			}
			return "", fmt.Errorf("%q: unmatched '}' (write '}}' for a brace)", s)
		case '{':
			if i+1 < len(s) && s[i+1] == '{' {
				b.WriteByte('{')
				i++
				continue
			}
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("%q: unmatched '{' (write '{{' for a brace)", s)
			}
			v, err := placeholder(s[i+1:i+end], env)
			if err != nil {
				return "", fmt.Errorf("%q: %w", s, err)
			}
			b.WriteString(v)
			i += end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// placeholder returns the value of one placeholder (the text between the
// braces).
func placeholder(p string, env placeholderEnv) (string, error) {
	key, format, hasFormat := strings.Cut(p, ":")
	if hasFormat && key != "now" && key != "utcnow" {
		return "", fmt.Errorf("placeholder {%s} takes no format", key)
	}
	call := func(f func() string) string {
		if f == nil {
			return ""
		}
		return f()
	}
	switch key {
	case "hostname":
		h, _, _ := strings.Cut(call(env.hostname), ".")
		return h, nil
	case "fqdn":
		return call(env.fqdn), nil
	case "user":
		return env.user, nil
	case "pid":
		return strconv.Itoa(env.pid), nil
	case "uuid4":
		return call(env.uuid4), nil
	case "now", "utcnow":
		t := env.now
		if key == "utcnow" {
			t = t.UTC()
		}
		if !hasFormat {
			format = "%Y-%m-%dT%H:%M:%S"
		}
		return strftime(t, format)
	}
	return "", fmt.Errorf("unknown placeholder {%s} (want hostname, fqdn, user, pid, uuid4, now or utcnow)", key)
}

// strftime formats t with the C/Python strftime directives %Y %y %m %d %e
// %H %I %M %S %f %p %j %a %A %b %B %w %u %Z %z %F %T %s and %%.
func strftime(t time.Time, format string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			b.WriteByte(format[i])
			continue
		}
		if i+1 >= len(format) {
			return "", fmt.Errorf("time format %q ends in '%%'", format)
		}
		i++
		switch d := format[i]; d {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			fmt.Fprintf(&b, "%02d", (t.Hour()+11)%12+1)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'w':
			fmt.Fprintf(&b, "%d", int(t.Weekday()))
		case 'u':
			fmt.Fprintf(&b, "%d", (int(t.Weekday())+6)%7+1)
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 's':
			fmt.Fprintf(&b, "%d", t.Unix())
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("time format %q: unknown directive %%%c", format, d)
		}
	}
	return b.String(), nil
}

// lookupFQDN returns the fully qualified name of host (as borg's
// socket.getfqdn), or host itself if the resolver does not know better
// within a second.
func lookupFQDN(host string) string {
	if strings.Contains(host, ".") {
		return host
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if cname, err := net.DefaultResolver.LookupCNAME(ctx, host); err == nil && cname != "" {
		return strings.TrimSuffix(cname, ".")
	}
	return host
}

// newUUID4 returns a random (version 4) UUID.
func newUUID4() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails on Linux
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
