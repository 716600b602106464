package keyring

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Stable codes of the keyring's errors: the command line prints them and
// exits 2 for CodeNoPassphrase (how it was run), 1 for the others. They
// never reach the HTTP API: a node's keys are its own.
const (
	// CodeNoPassphrase: no source gave the keyring's passphrase.
	CodeNoPassphrase = "no_passphrase"
	// CodeWrongPassphrase: the passphrase does not open a key file.
	CodeWrongPassphrase = "wrong_passphrase"
	// CodeKeyTampered: a key file opened, but its parts disagree (a file
	// copied over another key's name, a public key edited in clear) or
	// its ciphertext was altered.
	CodeKeyTampered = "key_tampered"
)

// Error is a keyring error with a stable code. errors.Is matches it by
// code: errors.Is(err, ErrWrongPassphrase).
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is matches an Error of the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Targets for errors.Is.
var (
	ErrNoPassphrase    = &Error{Code: CodeNoPassphrase}
	ErrWrongPassphrase = &Error{Code: CodeWrongPassphrase}
	ErrKeyTampered     = &Error{Code: CodeKeyTampered}
)

// NoPassphraseError says that no source gave a passphrase, and the three
// ways to give one; why, when not empty, says what was tried.
func NoPassphraseError(why string) error {
	msg := "the keyring's keys are encrypted and no passphrase was given: pass --passphrase-file FILE, " +
		"or set [keys] passphrase_file or passphrase_env in config/cityid.toml (a service: systemd's LoadCredential=), " +
		"or run the command in a terminal to be asked"
	if why != "" {
		msg = why + "; " + msg
	}
	return &Error{Code: CodeNoPassphrase, Message: msg}
}

// Sources are where a keyring's passphrase comes from, tried in this
// order (as Cosmos SDK and geth nodes do): a file given on the command
// line, then a file or an environment variable named in the node's
// configuration (for services), then a prompt on a terminal. The first
// source set is the one used: a file named but unreadable is an error,
// never a silent fall to the next.
type Sources struct {
	Flag string // --passphrase-file
	// Pipe is --passphrase-file -: the first line of the command's
	// standard input, which only the caller can read (once). Another
	// user's process cannot open a pipe by /dev/stdin.
	Pipe func() (string, error)
	File string // [keys] passphrase_file
	Env  string // [keys] passphrase_env: a variable's name
	// Prompt asks a person (twice when fresh, for a new passphrase); nil
	// when there is no terminal.
	Prompt func(fresh bool) (string, error)
}

// Passphrase is the passphrase of the first source set.
func (s Sources) Passphrase(fresh bool) (string, error) {
	switch {
	case s.Pipe != nil:
		return s.Pipe()
	case s.Flag != "":
		return ReadPassphraseFile(s.Flag)
	case s.File != "":
		p, err := ReadPassphraseFile(s.File)
		if err != nil {
			return "", fmt.Errorf("[keys] passphrase_file: %w", err)
		}
		return p, nil
	case s.Env != "":
		p, ok := os.LookupEnv(s.Env)
		if !ok || p == "" {
			return "", NoPassphraseError(fmt.Sprintf("[keys] passphrase_env names $%s, which is empty or not set", s.Env))
		}
		return p, nil
	case s.Prompt != nil:
		return s.Prompt(fresh)
	}
	return "", NoPassphraseError("")
}

// ReadPassphraseFile is the first line of file, without its line end: a
// file written by `echo`, by an editor, or by systemd's credentials.
func ReadPassphraseFile(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read the passphrase: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	if line = strings.TrimSuffix(line, "\r"); line == "" {
		return "", &Error{Code: CodeNoPassphrase, Message: file + ": the first line is empty"}
	}
	return line, nil
}

// generatedPrefix marks a passphrase cityid made: 32 random bytes follow
// in unpadded base64url.
const generatedPrefix = "cityid-generated-"

// GeneratePassphrase is a new random passphrase of 256 bits.
func GeneratePassphrase() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate a passphrase: %w", err)
	}
	return generatedPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// IsGenerated reports whether pass has GeneratePassphrase's form, and so
// 256 bits that scrypt's cost cannot add to. (A person who types one of
// that form has chosen 32 bytes: the cost stays low for them too.)
func IsGenerated(pass string) bool {
	rest, ok := strings.CutPrefix(pass, generatedPrefix)
	if !ok {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil && len(b) == 32
}

// WritePassphraseFile writes pass to a new file at path, readable by its
// owner only, never over one that exists.
func WritePassphraseFile(path, pass string) error {
	if err := createFile(path, []byte(pass+"\n")); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("write %s: it exists already; remove it or name another", path)
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
