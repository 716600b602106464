package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/viper"

	"github.com/cityid/cityid/internal/fsx"
	"github.com/cityid/cityid/internal/keyring"
)

// KeysConfig is [keys]: where the keyring's passphrase comes from when no
// --passphrase-file is given (keyring.Sources). At most one of the two.
type KeysConfig struct {
	// PassphraseFile is a file whose first line is the passphrase,
	// relative to the home or absolute. init writes a generated one to
	// config/passphrase and names it here.
	PassphraseFile string `mapstructure:"passphrase_file"`
	// PassphraseEnv is an environment variable holding the passphrase.
	PassphraseEnv string `mapstructure:"passphrase_env"`
}

func (k KeysConfig) validate() error {
	if k.PassphraseFile != "" && k.PassphraseEnv != "" {
		return fmt.Errorf("keys.passphrase_file and keys.passphrase_env are both set: give one")
	}
	return nil
}

// GeneratedPassphraseFile is where init writes a home's generated
// passphrase, relative to the home.
const GeneratedPassphraseFile = "config/passphrase"

const keysTemplate = `
[keys]
# The signing keys in keys/ are encrypted with one passphrase (age, scrypt).
# It comes from, in order: cityid's --passphrase-file flag; the file or the
# environment variable named here (one of the two); a prompt on a terminal.
# init wrote a random passphrase to config/passphrase, beside the keys, so
# that the node and the command line need no one at the keyboard: anyone
# who can read this home can read the keys. To keep it elsewhere, move the
# file (for a systemd service: LoadCredential=, see docs/keys.md) and point
# passphrase_file there, or empty both settings to be asked each time.
# Relative to the home, or absolute.
passphrase_file = %q
# The name of an environment variable holding the passphrase.
passphrase_env = %q
`

// keysSection is [keys] of cityid.toml.
func keysSection(k KeysConfig) string {
	return fmt.Sprintf(keysTemplate, k.PassphraseFile, k.PassphraseEnv)
}

// KeyringOptions is what a program adds to the configuration to get the
// keyring's passphrase.
type KeyringOptions struct {
	// PassphraseFile is --passphrase-file: it comes before [keys].
	PassphraseFile string
	// Pipe is --passphrase-file -: the program reads its standard input
	// (keyring.Sources.Pipe).
	Pipe func() (string, error)
	// Prompt asks on a terminal (twice when fresh); nil when there is
	// none: the node under systemd, tests, pipes.
	Prompt func(fresh bool) (string, error)
	// WorkFactor is keyring.Options.WorkFactor: tests lower it, nothing
	// else sets it.
	WorkFactor int
	// Warn receives the warnings of keys migrated from clear text (nil:
	// standard error).
	Warn func(string)
}

// OpenKeyring is the keyring of home, its passphrase taken from
// o.PassphraseFile, then [keys] in the home's cityid.toml, then o.Prompt.
// It is the one way every command, the node and the tests open a keyring,
// so that the passphrase comes from the same places for all of them. It
// reads no more than [keys], so a home of keys only (no node yet) opens
// too.
func OpenKeyring(home string, o KeyringOptions) (*keyring.Keyring, error) {
	kc, older, err := readKeysConfig(home)
	if err != nil {
		return nil, err
	}
	if older && !o.given() {
		return olderHomeKeyring(home, o), nil
	}
	return openKeyring(home, kc, o), nil
}

// olderHomeKeyring is the keyring of a node's home made by an older
// cityid: its cityid.toml has no [keys], its keys are in clear. The first
// time a passphrase is needed and the keyring holds no encrypted key yet,
// the home gets what init gives a new one (a generated passphrase in
// config/passphrase, named in a [keys] section added to cityid.toml), so
// that a node and a walk-through that ran unattended yesterday still do.
// Once the keyring holds encrypted keys, a home without [keys] has a
// passphrase of its person's: it is asked (o.Prompt), as usual.
func olderHomeKeyring(home string, o KeyringOptions) *keyring.Keyring {
	prompt := keyring.Sources{Prompt: o.Prompt}
	return keyring.Open(home, keyring.Options{WorkFactor: o.WorkFactor, Warn: o.Warn,
		Passphrase: func(fresh bool) (string, error) {
			if !fresh {
				return prompt.Passphrase(false)
			}
			path := homePath(home, GeneratedPassphraseFile)
			pass, err := setUpPassphrase(path)
			if err != nil {
				return "", err
			}
			if err := appendKeysSection(home, KeysConfig{PassphraseFile: GeneratedPassphraseFile}); err != nil {
				return "", err
			}
			if o.Warn != nil {
				o.Warn(PassphraseNote(path))
			}
			return pass, nil
		}})
}

// setUpPassphrase is the generated passphrase of an older home's first
// use, in the file path. A setup cut short after writing the file (before
// [keys] named it) left a generated passphrase there that has sealed no
// key, since the keyring holds no encrypted key yet: it is taken again,
// so that the setup can be retried. A file of another form is a person's,
// and is not overwritten.
func setUpPassphrase(path string) (string, error) {
	if old, err := keyring.ReadPassphraseFile(path); err == nil && keyring.IsGenerated(old) {
		return old, nil
	}
	pass, err := keyring.GeneratePassphrase()
	if err != nil {
		return "", err
	}
	if err := keyring.WritePassphraseFile(path, pass); err != nil {
		return "", err
	}
	return pass, nil
}

// appendKeysSection adds [keys] at the end of an older cityid.toml,
// leaving the rest as its person wrote it. The file is written anew whole
// (fsx.WriteFile), not appended to, so that a crash leaves it without
// [keys] or with all of it, never with half a section that no later start
// could read; and a file that has [keys] already (a setup that got that
// far) is left alone.
func appendKeysSection(home string, k KeysConfig) error {
	path := cityidFile(home)
	if _, older, err := readKeysConfig(home); err != nil || !older {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("add [keys] to %s: %w", path, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("add [keys] to %s: %w", path, err)
	}
	if err := fsx.WriteFile(path, append(b, keysSection(k)...), fi.Mode().Perm()); err != nil {
		return fmt.Errorf("add [keys] to %s: %w", path, err)
	}
	return nil
}

// LoadKey is home's key named name, with the passphrase of its
// configuration and no prompt: for programs and tests that drive a node
// from code.
func LoadKey(home, name string) (keyring.Key, error) {
	kr, err := OpenKeyring(home, KeyringOptions{})
	if err != nil {
		return keyring.Key{}, err
	}
	return kr.Load(name)
}

// given reports a passphrase given on the command line.
func (o KeyringOptions) given() bool { return o.PassphraseFile != "" || o.Pipe != nil }

func openKeyring(home string, kc KeysConfig, o KeyringOptions) *keyring.Keyring {
	src := keyring.Sources{Flag: o.PassphraseFile, Pipe: o.Pipe, File: homePath(home, kc.PassphraseFile), Env: kc.PassphraseEnv, Prompt: o.Prompt}
	return keyring.Open(home, keyring.Options{Passphrase: src.Passphrase, WorkFactor: o.WorkFactor, Warn: o.Warn})
}

// homePath is p relative to home unless absolute ("" stays "").
func homePath(home, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(home, p)
}

// readKeysConfig is [keys] of home's cityid.toml; none when the home has
// no cityid.toml yet (keys added before the first start). older reports a
// cityid.toml with no [keys] section at all: an older cityid's.
func readKeysConfig(home string) (_ KeysConfig, older bool, _ error) {
	path := cityidFile(home)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return KeysConfig{}, false, nil
	}
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return KeysConfig{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	var c struct {
		Keys KeysConfig `mapstructure:"keys"`
	}
	if err := v.Unmarshal(&c); err != nil {
		return KeysConfig{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	if err := c.Keys.validate(); err != nil {
		return KeysConfig{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return c.Keys, !v.IsSet("keys"), nil
}

// homeKeys decides the passphrase of a home being prepared and returns
// its keyring and the [keys] to write:
//   - a passphrase given (--passphrase-file) is the one: nothing is written;
//   - a keyring that already holds encrypted keys (added before the first
//     start) keeps its passphrase: asked (o.Prompt), else an error;
//   - otherwise a random one is written to config/passphrase and named in
//     [keys], so that the node and the command line run unattended.
func homeKeys(home string, o KeyringOptions) (*keyring.Keyring, KeysConfig, string, error) {
	if o.given() {
		return openKeyring(home, KeysConfig{}, o), KeysConfig{}, "", nil
	}
	entries, err := keyring.Open(home, keyring.Options{}).List()
	if err != nil {
		return nil, KeysConfig{}, "", err
	}
	for _, e := range entries {
		if e.Plain {
			continue
		}
		// Asked now, before anything is written: a home is made whole
		// or not at all.
		if o.Prompt == nil {
			return nil, KeysConfig{}, "", keyring.NoPassphraseError("the keys in " + keyring.Dir(home) + " are encrypted with a passphrase of your own, which the node needs")
		}
		pass, err := o.Prompt(false)
		if err != nil {
			return nil, KeysConfig{}, "", err
		}
		kr := keyring.Open(home, keyring.Options{Passphrase: func(bool) (string, error) { return pass, nil }, WorkFactor: o.WorkFactor, Warn: o.Warn})
		return kr, KeysConfig{}, "", nil
	}
	pass, err := keyring.GeneratePassphrase()
	if err != nil {
		return nil, KeysConfig{}, "", err
	}
	path := homePath(home, GeneratedPassphraseFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, KeysConfig{}, "", err
	}
	if err := keyring.WritePassphraseFile(path, pass); err != nil {
		return nil, KeysConfig{}, "", err
	}
	kc := KeysConfig{PassphraseFile: GeneratedPassphraseFile}
	return openKeyring(home, kc, o), kc, path, nil
}

// PassphraseNote is the line init prints about a generated passphrase.
func PassphraseNote(path string) string {
	return fmt.Sprintf("The keys in %s are encrypted with a random passphrase kept beside them in %s (readable by you only): "+
		"move it away and set [keys] passphrase_file, or use --passphrase-file, to keep it apart (docs/keys.md).",
		filepath.Join(filepath.Dir(filepath.Dir(path)), "keys"), path)
}

// StaleKeysNote is what to tell the person who just changed the keyring's
// passphrase to pass when [keys] in home's cityid.toml still names a file
// or variable that does not hold it: every later command and the node's
// next start would fail with wrong_passphrase, and the passphrase a new
// home was given sits in config/passphrase, which change-passphrase does
// not touch. "" when [keys] names nothing, or the new passphrase.
func StaleKeysNote(home, pass string) string {
	kc, _, err := readKeysConfig(home)
	if err != nil {
		return ""
	}
	switch {
	case kc.PassphraseFile != "":
		path := homePath(home, kc.PassphraseFile)
		if old, err := keyring.ReadPassphraseFile(path); err == nil && old == pass {
			return ""
		}
		return fmt.Sprintf("note: [keys] passphrase_file in %s names %s, which does not hold the new passphrase: write the new one there, or point passphrase_file at its file (docs/keys.md); until then commands and the node fail with wrong_passphrase", cityidFile(home), path)
	case kc.PassphraseEnv != "":
		if os.Getenv(kc.PassphraseEnv) == pass {
			return ""
		}
		return fmt.Sprintf("note: [keys] passphrase_env in %s names $%s, which does not hold the new passphrase: set it to the new one wherever the node's environment is made (docs/keys.md)", cityidFile(home), kc.PassphraseEnv)
	}
	return ""
}
