package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo/internal/format"
)

// maxKeyFileSize bounds key files read from disk.
const maxKeyFileSize = 64 << 10

// keyCandidate is a parsed key file and where it came from.
type keyCandidate struct {
	kf     *crypto.KeyFile
	data   []byte
	handle backend.Handle // repokey
	path   string         // keyfile
}

// unlock finds the repository's key files and opens one with the
// passphrase. Unparseable key files are skipped but named in the error if
// no key works.
func (r *Repo) unlock(ctx context.Context, hdr *format.ConfigHeader) (*crypto.MasterKey, error) {
	if hdr.Encryption == format.EncNone {
		return crypto.PublicMasterKey(), nil
	}
	cands, problems, damaged, err := findKeys(ctx, r.be, r.opts.KeysDir, hdr)
	if err != nil {
		return nil, err
	}
	if len(cands) == 0 && damaged {
		return nil, fmt.Errorf("%s: %w: %w (%s)", r.be.Location(), ErrNoKey, ErrKeyDamaged, strings.Join(problems, ", "))
	}
	if len(cands) == 0 {
		where := "keys/ in the repository"
		if hdr.Encryption == format.EncKeyfile {
			where = "the keys directory " + r.opts.KeysDir
		}
		detail := "none found in " + where
		if len(problems) > 0 {
			detail += " (" + strings.Join(problems, ", ") + ")"
		}
		return nil, fmt.Errorf("%s: %w: %s", r.be.Location(), ErrNoKey, detail)
	}
	pass, err := askPassphrase(r.opts.Passphrase)
	if err != nil {
		return nil, err
	}
	for _, c := range cands {
		mk, err := c.kf.Unwrap(pass)
		if err == nil {
			r.keyHandle, r.keyPath, r.keyBytes = c.handle, c.path, c.data
			return mk, nil
		}
		if !errors.Is(err, crypto.ErrWrongPassphrase) {
			return nil, fmt.Errorf("%s: key file: %w", r.be.Location(), err)
		}
	}
	return nil, fmt.Errorf("%s: %w", r.be.Location(), ErrWrongPassphrase)
}

// findKeys lists the key files that belong to the repository described by
// hdr. problems names key files that could not be read or parsed; damaged
// reports whether a key file was read but does not parse.
func findKeys(ctx context.Context, be backend.Backend, keysDir string, hdr *format.ConfigHeader) (cands []keyCandidate, problems []string, damaged bool, err error) {
	add := func(data []byte, h backend.Handle, path string) {
		kf, err := crypto.ParseKeyFile(data)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", nameOf(h, path), err))
			damaged = true
			return
		}
		if kf.Repository != hdr.ID {
			if h.Type != "" {
				problems = append(problems, fmt.Sprintf("%s: belongs to repository %s", nameOf(h, path), kf.Repository.Short()))
			}
			return
		}
		cands = append(cands, keyCandidate{kf: kf, data: data, handle: h, path: path})
	}
	if hdr.Encryption == format.EncRepokey {
		var names []string
		err := be.List(ctx, backend.KeyFile, func(fi backend.FileInfo) error {
			names = append(names, fi.Name)
			return nil
		})
		if err != nil {
			return nil, nil, false, fmt.Errorf("%s: list keys: %w", be.Location(), err)
		}
		for _, n := range names {
			h := backend.Handle{Type: backend.KeyFile, Name: n}
			if fi, err := be.Stat(ctx, h); err == nil && fi.Size > maxKeyFileSize {
				problems = append(problems, fmt.Sprintf("%s: %d bytes is too large for a key file", h, fi.Size))
				continue
			}
			data, err := backend.ReadAll(ctx, be, h)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", h, err))
				continue
			}
			add(data, h, "")
		}
		return cands, problems, damaged, nil
	}
	if keysDir == "" {
		return nil, nil, false, fmt.Errorf("%s: %w: the repository uses keyfile encryption but no keys directory is set", be.Location(), ErrNoKey)
	}
	entries, err := os.ReadDir(keysDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, false, fmt.Errorf("read keys directory: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(keysDir, e.Name())
		data, err := readSmallFile(path, maxKeyFileSize)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		add(data, backend.Handle{}, path)
	}
	return cands, problems, damaged, nil
}

func nameOf(h backend.Handle, path string) string {
	if path != "" {
		return path
	}
	return h.String()
}

func readSmallFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s: %d bytes is too large for a key file", path, fi.Size())
	}
	buf := make([]byte, fi.Size())
	if _, err := f.ReadAt(buf, 0); err != nil && fi.Size() > 0 {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return buf, nil
}

// writeKeyfile stores a key file in dir under a name derived from the
// repository ID, atomically, never overwriting another file.
func writeKeyfile(dir string, repoID id.ID, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("keys directory: %w", err)
	}
	base := filepath.Join(dir, "gobak-"+repoID.String())
	for i := 0; i < 1000; i++ {
		path := base
		if i > 0 {
			path = fmt.Sprintf("%s.%d", base, i)
		}
		err := writeFileExclusive(path, data)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		return path, err
	}
	return "", fmt.Errorf("keys directory %s: too many key files for repository %s", dir, repoID.Short())
}

// writeFileExclusive writes data to a temp file, fsyncs it and links it to
// path, failing with os.ErrExist if path exists.
func writeFileExclusive(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".tmp-key-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ExportKey returns the bytes of the key file that opened the repository
// (it is still protected by its passphrase). Repositories without
// encryption have no key to export.
func (r *Repo) ExportKey() ([]byte, error) {
	if r.cfg.Encryption == format.EncNone {
		return nil, fmt.Errorf("%s: repository has no key (encryption none)", r.be.Location())
	}
	r.keyMu.Lock()
	defer r.keyMu.Unlock()
	return append([]byte(nil), r.keyBytes...), nil
}

// ChangePassphrase re-wraps the master key with a new passphrase, stores the
// new key file, and only then removes the old one: a crash in between
// leaves two valid key files.
func (r *Repo) ChangePassphrase(ctx context.Context, newPass []byte, kdf crypto.KDFParams) error {
	if r.cfg.Encryption == format.EncNone {
		return fmt.Errorf("%s: repository has no key (encryption none)", r.be.Location())
	}
	if kdf == (crypto.KDFParams{}) {
		kdf = crypto.DefaultKDF
	}
	data, err := crypto.WrapMasterKey(r.key.Master(), newPass, r.cfg.ID, kdf, hostname(r.opts.Hostname), r.opts.Username)
	if err != nil {
		return err
	}
	r.keyMu.Lock()
	defer r.keyMu.Unlock()
	if r.cfg.Encryption == format.EncRepokey {
		h := backend.Handle{Type: backend.KeyFile, Name: id.Hash(data).String()}
		if err := r.be.Save(ctx, h, data); err != nil {
			return fmt.Errorf("save new key: %w", err)
		}
		if err := r.be.Remove(ctx, r.keyHandle); err != nil && !errors.Is(err, backend.ErrNotExist) {
			return fmt.Errorf("new key saved as %s, but removing the old key %s failed: %w", h, r.keyHandle, err)
		}
		r.keyHandle = h
	} else {
		path, err := writeKeyfile(filepath.Dir(r.keyPath), r.cfg.ID, data)
		if err != nil {
			return err
		}
		// rename replaces the old key file atomically.
		if err := os.Rename(path, r.keyPath); err != nil {
			return fmt.Errorf("new key saved as %s: %w", path, err)
		}
		_ = syncDir(filepath.Dir(r.keyPath))
	}
	r.keyBytes = data
	return nil
}

// ImportKey stores a key file (as written by ExportKey) for the repository
// on be: into keys/ for repokey repositories, into o.KeysDir for keyfile
// ones. It needs no existing key, so it restores access after key files
// were lost; it checks that the key belongs to this repository and, by
// unlocking it with o.Passphrase, that it really opens its config.
func ImportKey(ctx context.Context, be backend.Backend, o Options, data []byte) error {
	hdr, err := readConfigHeader(ctx, be)
	if err != nil {
		return err
	}
	if hdr.Encryption == format.EncNone {
		return fmt.Errorf("%s: repository has no key (encryption none)", be.Location())
	}
	kf, err := crypto.ParseKeyFile(data)
	if err != nil {
		return fmt.Errorf("import key: %w", err)
	}
	if kf.Repository != hdr.ID {
		return fmt.Errorf("import key: the key belongs to repository %s, not %s", kf.Repository, hdr.ID)
	}
	pass, err := askPassphrase(o.Passphrase)
	if err != nil {
		return err
	}
	mk, err := kf.Unwrap(pass)
	if err != nil {
		return fmt.Errorf("import key: %w", err)
	}
	suite, err := crypto.ParseSuite(hdr.AEAD)
	if err != nil {
		return err
	}
	key, err := crypto.NewKey(mk, suite)
	if err != nil {
		return err
	}
	if _, err := key.Open(nil, hdr.Body, configAD(hdr.ID)); err != nil {
		return fmt.Errorf("import key: the key does not open this repository's config: %w", ErrDamaged)
	}
	if hdr.Encryption == format.EncRepokey {
		h := backend.Handle{Type: backend.KeyFile, Name: id.Hash(data).String()}
		if err := be.Save(ctx, h, data); err != nil && !errors.Is(err, backend.ErrExist) {
			return fmt.Errorf("import key: %w", err)
		}
		return nil
	}
	if o.KeysDir == "" {
		return fmt.Errorf("import key: the repository uses keyfile encryption but no keys directory is set")
	}
	_, err = writeKeyfile(o.KeysDir, hdr.ID, data)
	return err
}
