package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/repo"
)

// lockMode says which lock a command takes.
type lockMode int

const (
	noLock lockMode = iota
	sharedLock
	exclusiveLock
)

// closeTimeout bounds the cleanup (unlock) after a command, which runs even
// after Ctrl-C.
const closeTimeout = 30 * time.Second

// openBackend opens the storage of the existing repository at loc and
// checks that it has a config file, so that nothing (a lock, a key) is ever
// written into a directory that is not a repository.
func (a *app) openBackend(ctx context.Context, loc location) (backend.Backend, error) {
	be, err := a.storage(ctx, loc, false)
	if errors.Is(err, backend.ErrNotExist) {
		return nil, withHint(&msgError{msg: "repository " + loc.String() + " does not exist", err: err},
			"check the path or create a repository with 'gobak init'")
	}
	if err != nil {
		return nil, repoError(loc.String(), err)
	}
	if _, err := be.Stat(ctx, backend.Handle{Type: backend.ConfigFile}); err != nil {
		_ = be.Close()
		if errors.Is(err, backend.ErrNotExist) {
			return nil, &msgError{
				msg: loc.String() + " is not a gobak repository (no config file)",
				err: fmt.Errorf("%w: %w", repo.ErrNotRepository, err),
			}
		}
		return nil, repoError(loc.String(), err)
	}
	return be, nil
}

// session is an open repository with the lock that a command holds on it.
type session struct {
	loc  location
	be   backend.Backend
	lock *repo.Lock
	repo *repo.Repo
}

// lock takes the lock mode on the repository on be (none for noLock).
func (a *app) lock(ctx context.Context, loc location, be backend.Backend, mode lockMode) (*repo.Lock, error) {
	if mode == noLock {
		return nil, nil
	}
	a.logger.Debug("acquiring lock", "repository", loc.String(), "exclusive", mode == exclusiveLock, "wait", a.lockOptions().Wait)
	l, err := repo.AcquireLock(ctx, be, mode == exclusiveLock, a.lockOptions())
	if err != nil {
		return nil, repoError(loc.String(), err)
	}
	a.logger.Debug("lock acquired", "repository", loc.String())
	return l, nil
}

// openRepo opens the repository at loc after taking the lock mode on it.
// The caller must close the session, also on errors of its own.
func (a *app) openRepo(ctx context.Context, loc location, mode lockMode) (*session, error) {
	be, err := a.openBackend(ctx, loc)
	if err != nil {
		return nil, err
	}
	s := &session{loc: loc, be: be}
	if s.lock, err = a.lock(ctx, loc, be, mode); err != nil {
		_ = s.close(ctx)
		return nil, err
	}
	if s.repo, err = repo.Open(ctx, be, a.repoOptions(ctx, loc)); err != nil {
		_ = s.close(ctx)
		return nil, repoError(loc.String(), err)
	}
	if s.lock != nil {
		s.repo.UseLock(s.lock)
	}
	cfg := s.repo.Config()
	a.logger.Info("opened repository", "location", loc.String(), "id", cfg.ID.String(), "encryption", cfg.Encryption)
	return s, nil
}

// close closes the repository, releases the lock (even if ctx was
// canceled) and closes the backend.
func (s *session) close(ctx context.Context) error {
	return closeAll(ctx, s.loc, s.repo, s.lock, s.be)
}

// closeInto closes s and stores the error in *errp unless that already
// holds one. Use it as `defer s.closeInto(ctx, &err)`.
func (s *session) closeInto(ctx context.Context, errp *error) {
	if err := s.close(ctx); err != nil && *errp == nil {
		*errp = err
	}
}

// closeAll closes what is not nil, in order: repository, lock, backend.
func closeAll(ctx context.Context, loc location, r *repo.Repo, l *repo.Lock, be backend.Backend) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	var errs []error
	if r != nil {
		if err := r.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close: %w", err))
		}
	}
	if l != nil {
		if err := l.Unlock(ctx); err != nil {
			errs = append(errs, fmt.Errorf("remove lock: %w", err))
		}
	}
	if be != nil {
		if err := be.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close: %w", err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return repoError(loc.String(), errors.Join(errs...))
}
