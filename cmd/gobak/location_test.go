package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseLocation(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in       string
		wantPath string
		wantErr  string
	}{
		{"/srv/backup", "/srv/backup", ""},
		{"/srv/backup/", "/srv/backup", ""},
		{"repo", filepath.Join(cwd, "repo"), ""},
		{"./a/../repo", filepath.Join(cwd, "repo"), ""},
		{"file:///srv/backup", "/srv/backup", ""},
		{"file://localhost/srv/backup", "/srv/backup", ""},
		{"FILE:///srv//backup/", "/srv/backup", ""},
		{"file:///srv/with%20space", "/srv/with space", ""},
		{"dir.with://in/it", filepath.Join(cwd, "dir.with:/in/it"), ""},
		{"", "", "no repository given"},
		{"file://", "", "absolute path"},
		{"file://otherhost/srv", "", "not host"},
		{"file:///srv?x=1", "", "no query"},
		{"s3://host", "", "missing bucket"},
		{"s3://host/", "", "missing bucket"},
		{"s3://key:secret@host/b", "", "credentials do not belong"},
		{"s3+http:///b", "", "missing host"},
		{"s3://host/b//p", "", "segments are not allowed"},
		{"s3://host/b/../other/p", "", "segments are not allowed"},
		{"s3://host/./b", "", "segments are not allowed"},
		{"sftp://", "", "missing host"},
		{"sftp://host", "", "missing path"},
		{"sftp://host/", "", "missing path"},
		{"sftp://u:secret@host/r", "", "passwords do not belong"},
		{"sftp://host/r?x=1", "", "no query"},
		{"ftp://host/x", "", "unknown scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			loc, err := parseLocation(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseLocation(%q) = %+v, %v; want error containing %q", tt.in, loc, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseLocation(%q): %v", tt.in, err)
			}
			if loc.Path != tt.wantPath || loc.Scheme != "file" || loc.String() != tt.wantPath || loc.Raw != tt.in {
				t.Errorf("parseLocation(%q) = %+v, want path %q", tt.in, loc, tt.wantPath)
			}
		})
	}
}

func TestParseSFTPLocation(t *testing.T) {
	tests := []struct {
		in                     string
		user, host, port, path string
	}{
		{"sftp://backup@host.example:2222/srv/backup/", "backup", "host.example", "2222", "/srv/backup"},
		{"sftp://host/srv//backup", "", "host", "", "/srv/backup"},
		{"SFTP://[::1]:22/repo", "", "::1", "22", "/repo"},
		{"sftp://host/~/repos/a", "", "host", "", "~/repos/a"},
		{"sftp://host/./repo", "", "host", "", "repo"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			loc, err := parseLocation(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			want := location{Raw: tt.in, Scheme: "sftp", Path: tt.path, User: tt.user, Host: tt.host, Port: tt.port}
			if loc != want || loc.String() != tt.in {
				t.Errorf("parseLocation(%q) = %+v, want %+v", tt.in, loc, want)
			}
		})
	}
}

func TestParseS3Location(t *testing.T) {
	tests := []struct {
		in             string
		host, port     string
		bucket, prefix string
		secure         bool
	}{
		{"s3://s3.example.com/backups", "s3.example.com", "", "backups", "", true},
		{"s3://s3.example.com/backups/web1/", "s3.example.com", "", "backups", "web1", true},
		{"s3+http://127.0.0.1:7070/b/hosts/web1", "127.0.0.1", "7070", "b", "hosts/web1", false},
		{"s3+http://[::1]/b/p", "::1", "", "b", "p", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			loc, err := parseLocation(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			want := location{Raw: tt.in, Scheme: "s3", Host: tt.host, Port: tt.port, Bucket: tt.bucket, Prefix: tt.prefix, Secure: tt.secure}
			if loc != want || loc.String() != tt.in {
				t.Errorf("parseLocation(%q) = %+v, want %+v", tt.in, loc, want)
			}
		})
	}
}

func TestSplitArchive(t *testing.T) {
	tests := []struct {
		arg, env           string
		wantRepo, wantArch string
		wantErr            bool
	}{
		{"/srv/repo", "", "/srv/repo", "", false},
		{"/srv/repo::monday", "", "/srv/repo", "monday", false},
		{"/srv/repo::a::b", "", "/srv/repo", "a::b", false},
		{"::monday", "/env/repo", "/env/repo", "monday", false},
		{"", "/env/repo", "/env/repo", "", false},
		{"/srv/repo::", "", "/srv/repo", "", false},
		{"sftp://[::1]:22/repo::arch", "", "sftp://[::1]:22/repo", "arch", false},
		{"sftp://[fe80::1]/repo", "", "sftp://[fe80::1]/repo", "", false},
		{"/arg/wins", "/env/repo", "/arg/wins", "", false},
		{"::monday", "", "", "", true},
		{"", "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.arg+"|"+tt.env, func(t *testing.T) {
			r, a, err := splitArchive(tt.arg, tt.env)
			if tt.wantErr {
				if !errors.Is(err, errNoRepo) {
					t.Fatalf("splitArchive(%q, %q) = %q, %q, %v; want errNoRepo", tt.arg, tt.env, r, a, err)
				}
				return
			}
			if err != nil || r != tt.wantRepo || a != tt.wantArch {
				t.Errorf("splitArchive(%q, %q) = %q, %q, %v; want %q, %q", tt.arg, tt.env, r, a, err, tt.wantRepo, tt.wantArch)
			}
		})
	}
}

func TestRepoArg(t *testing.T) {
	tests := []struct {
		args      []string
		env       map[string]string
		wantPath  string
		wantUsage bool
		wantErr   string
	}{
		{[]string{"/srv/r"}, nil, "/srv/r", false, ""},
		{nil, map[string]string{"GOBAK_REPO": "/env/r"}, "/env/r", false, ""},
		{nil, map[string]string{"GOBAK_REPO": "file:///env/r"}, "/env/r", false, ""},
		{nil, nil, "", true, "GOBAK_REPO"},
		{[]string{"/srv/r::arch"}, nil, "", true, "names an archive"},
		{[]string{"::arch"}, map[string]string{"GOBAK_REPO": "/env/r"}, "", true, "names an archive"},
		{[]string{"gopher://h/r"}, nil, "", false, "unknown scheme"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			a := newApp(nil, nil, nil, mapEnv(tt.env))
			loc, err := a.repoArg(tt.args)
			if tt.wantErr == "" {
				if err != nil || loc.Path != tt.wantPath {
					t.Fatalf("repoArg(%q) = %+v, %v; want %q", tt.args, loc, err, tt.wantPath)
				}
				return
			}
			var ue *usageError
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &ue) != tt.wantUsage {
				t.Errorf("repoArg(%q) = %v; want error %q (usage error: %v)", tt.args, err, tt.wantErr, tt.wantUsage)
			}
		})
	}
}

// mapEnv returns a lookupEnv function over m.
func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// TestRemoteRestoreOptions: restores from sftp:// and s3:// repositories
// read over larger gaps with more workers; local ones keep the defaults.
func TestRemoteRestoreOptions(t *testing.T) {
	a := newApp(nil, nil, nil, mapEnv(nil))
	for _, tt := range []struct {
		loc          string
		gap, workers int
	}{
		{"/srv/backup", 0, 0},
		{"sftp://host/srv/backup", remoteReadGap, remoteWorkers},
		{"s3://host/bucket/prefix", remoteReadGap, remoteWorkers},
	} {
		loc, err := parseLocation(tt.loc)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.repoOptions(t.Context(), loc).ReadGap; got != tt.gap {
			t.Errorf("%s: ReadGap %d, want %d", tt.loc, got, tt.gap)
		}
		if got := restoreWorkers(loc); got != tt.workers {
			t.Errorf("%s: restore workers %d, want %d", tt.loc, got, tt.workers)
		}
	}
}
