package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Authority is the registry authority: the keys of the registry institutes
// and how many of them must approve a city (M of N).
type Authority struct {
	Members   []string `json:"members"`
	Threshold int      `json:"threshold"`
}

// Params are the network's fixed parameters, set at genesis.
type Params struct {
	// OIDArc is the registry's OID arc: an identifier's OID form is
	// <arc>.<country>.<city number>[.<sector>[.<unit>]].
	OIDArc string `json:"oid_arc"`
	// IAC is the ISO/IEC 15459 issuing agency code of the registry's
	// 15459 form.
	IAC string `json:"iac"`

	// Terms. Zero (or absent from an older genesis) takes the default
	// in limits.go; each bounds how long something written once can
	// stay in force without being written again.

	// MaxGrantDays bounds how far past the block time a grant may expire.
	MaxGrantDays uint64 `json:"max_grant_days,omitempty"`
	// ApplicationBlocks is how many blocks an application stays open
	// for votes; after it, it has expired and its applicant may apply
	// again.
	ApplicationBlocks uint64 `json:"application_blocks,omitempty"`
	// VoteBlocks is how many blocks a vote on an application or a
	// proposal counts for.
	VoteBlocks uint64 `json:"vote_blocks,omitempty"`
	// UpgradeLeadBlocks is how many blocks after the block that
	// schedules it (the approval that reaches the threshold) an upgrade
	// plan's height must be at least, so that every operator hears of it
	// in time to install the binary it needs (application version 5).
	UpgradeLeadBlocks uint64 `json:"upgrade_lead_blocks,omitempty"`
}

// GrantTerm is the longest a grant may run, in days.
func (p Params) GrantTerm() uint64 { return orDefault(p.MaxGrantDays, DefaultMaxGrantDays) }

// ApplicationTerm is how many blocks an application stays open.
func (p Params) ApplicationTerm() uint64 {
	return orDefault(p.ApplicationBlocks, DefaultApplicationBlocks)
}

// VoteTerm is how many blocks a vote counts for.
func (p Params) VoteTerm() uint64 { return orDefault(p.VoteBlocks, DefaultVoteBlocks) }

// UpgradeLead is how many blocks ahead an upgrade plan must be.
func (p Params) UpgradeLead() uint64 {
	return orDefault(p.UpgradeLeadBlocks, DefaultUpgradeLeadBlocks)
}

func orDefault(v, def uint64) uint64 {
	if v == 0 {
		return def
	}
	return v
}

// Genesis is the registry's part of the genesis document (CometBFT's
// app_state).
type Genesis struct {
	Authority Authority `json:"authority"`
	Params    Params    `json:"params"`
	// Import, when set, starts the network from an export of another
	// (docs/export.md): InitChain writes its entries, among them the
	// authority and params, which must be the ones above.
	Import *GenesisImport `json:"import,omitempty"`
}

// GenesisImport names the export a network starts from. The export lives
// in a file beside genesis.json, not in it: a registry's state is far
// larger than CometBFT keeps a genesis document (it stores the whole
// document in its state database and serves it over RPC), and the file's
// hash here binds it to the genesis as surely.
type GenesisImport struct {
	// File is the export's file name in the genesis file's folder.
	File string `json:"file"`
	// SHA256 is the SHA-256 of the whole file.
	SHA256 string `json:"sha256"`
	// Header is the export's header line, repeated for people reading
	// the genesis.
	Header ExportHeader `json:"header"`
}

// GenesisImportFile is the name init and testnet give the export they copy
// beside a new network's genesis.json.
const GenesisImportFile = "genesis-import.jsonl"

// OpenFile opens a file that a genesis names, by its name in the genesis
// file's folder: the chain's part, since the registry does no I/O.
type OpenFile func(name string) (io.ReadCloser, error)

func (g GenesisImport) validate() error {
	if g.File == "" || g.File == "." || g.File == ".." || strings.ContainsAny(g.File, "/\\\x00") || len(g.File) > 255 {
		return fmt.Errorf("import: file %q is not a file name in the genesis file's folder", g.File)
	}
	if !isHexText(g.SHA256, 64, false) {
		return fmt.Errorf("import: sha256 %q is not 64 lower-case hex digits", g.SHA256)
	}
	return g.Header.check()
}

func (a Authority) validate() *Error {
	if len(a.Members) == 0 {
		return errorf(CodeInvalid, "authority has no members")
	}
	if err := checkKeys("authority member", a.Members, MaxAuthority); err != nil {
		return errorf(err.Code, "authority: %s", err.Msg)
	}
	if a.Threshold < 1 || a.Threshold > len(a.Members) {
		return errorf(CodeInvalid, "authority threshold %d is not between 1 and its %d members", a.Threshold, len(a.Members))
	}
	return nil
}

func (p Params) validate() *Error {
	if p.OIDArc == "" {
		return errorf(CodeInvalid, "params: oid_arc is required")
	}
	for i, arc := range strings.Split(p.OIDArc, ".") {
		if arc == "" || strings.Trim(arc, "0123456789") != "" || (len(arc) > 1 && arc[0] == '0') {
			return errorf(CodeInvalid, "params: oid_arc %q: arc %d is not a number without leading zeros", p.OIDArc, i+1)
		}
	}
	if p.IAC == "" || len(p.IAC) > 3 || strings.Trim(p.IAC, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		return errorf(CodeInvalid, "params: iac %q is not 1 to 3 uppercase letters or digits (ISO/IEC 15459-2)", p.IAC)
	}
	if p.MaxGrantDays > MaxGrantDays {
		return errorf(CodeInvalid, "params: max_grant_days %d is more than %d", p.MaxGrantDays, MaxGrantDays)
	}
	if p.ApplicationBlocks > MaxTermBlocks || p.VoteBlocks > MaxTermBlocks || p.UpgradeLeadBlocks > MaxTermBlocks {
		return errorf(CodeInvalid, "params: application_blocks, vote_blocks and upgrade_lead_blocks must be at most %d", MaxTermBlocks)
	}
	return nil
}

// InitGenesis validates the registry's genesis state and writes it, with
// the genesis validator set (which CometBFT reads from its genesis file).
// A genesis that imports an export needs InitGenesisFrom.
func (m *Machine) InitGenesis(kv KV, appState []byte, validators []Validator) error {
	return m.InitGenesisFrom(kv, appState, validators, nil)
}

// InitGenesisFrom is InitGenesis with the files a genesis may name
// opened by open (nil: none). An imported export is read once, each entry
// written as soon as its line is checked; what can be checked only of the
// whole file (its hash, its entries' count and hash, the authority and
// params it holds) is checked at its end. So an import refused at line N
// has written the entries before it: the caller must then discard the
// working state (chain's InitChain rolls it back), and nothing of a
// refused genesis is ever committed.
func (m *Machine) InitGenesisFrom(kv KV, appState []byte, validators []Validator, open OpenFile) error {
	var g Genesis
	if err := decodeStrict(appState, &g); err != nil {
		return fmt.Errorf("genesis app_state: %w", err)
	}
	if err := g.Authority.validate(); err != nil {
		return fmt.Errorf("genesis app_state: %w", err)
	}
	if err := g.Params.validate(); err != nil {
		return fmt.Errorf("genesis app_state: %w", err)
	}
	var vals []Validator
	for i, v := range validators {
		if _, err := ParsePubKey(v.PubKey); err != nil {
			return fmt.Errorf("genesis validator %d: %w", i+1, err)
		}
		if v.Power <= 0 || v.Power > MaxValidatorPower {
			return fmt.Errorf("genesis validator %d: power %d is not between 1 and %d", i+1, v.Power, MaxValidatorPower)
		}
		for _, prev := range validators[:i] {
			if prev.PubKey == v.PubKey {
				return fmt.Errorf("genesis validator %d: key %s is listed twice", i+1, v.PubKey)
			}
		}
		vals = setPower(vals, v.PubKey, v.Power)
	}
	if g.Import != nil {
		if err := m.writeImport(kv, g, open); err != nil {
			return fmt.Errorf("genesis app_state: %w", err)
		}
		if err := putJSON(kv, ValidatorsKey(), vals); err != nil {
			return fmt.Errorf("genesis: %w", err)
		}
		return nil
	}
	// Everything is checked before anything is written.
	if err := putJSON(kv, AuthorityKey(), g.Authority); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	if err := putJSON(kv, ParamsKey(), g.Params); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	if err := putJSON(kv, ValidatorsKey(), vals); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	return nil
}

// GetAuthority reads the registry authority.
func GetAuthority(r Reader) (Authority, error) {
	var a Authority
	ok, err := getJSON(r, AuthorityKey(), &a)
	if err != nil {
		return a, err
	}
	if !ok {
		return a, fmt.Errorf("state has no authority: was the chain initialised from its genesis?")
	}
	return a, nil
}

// GetParams reads the network's parameters.
func GetParams(r Reader) (Params, error) {
	var p Params
	ok, err := getJSON(r, ParamsKey(), &p)
	if err != nil {
		return p, err
	}
	if !ok {
		return p, fmt.Errorf("state has no params: was the chain initialised from its genesis?")
	}
	return p, nil
}

// writeImport writes the entries of the export a genesis imports, in one
// read of the file, and checks it: before the file is opened, the genesis's
// import (a plain file name, a hash) and its chain ID; every line as it is
// read (ReadExport); then the file's hash, its header, and that it holds
// the authority and params the genesis shows. A network must not take
// the chain ID of the one it came from: its accounts' nonces are not
// carried, and only a chain ID of its own keeps the old network's
// transactions from being replayed on it. On an error, what was written
// must be discarded (InitGenesisFrom).
func (m *Machine) writeImport(kv KV, g Genesis, open OpenFile) error {
	if err := g.Import.validate(); err != nil {
		return err
	}
	if g.Import.Header.ChainID == m.chainID {
		return fmt.Errorf("import: the export is of chain %s, this network's own chain ID: a network started from an export needs a chain ID of its own", m.chainID)
	}
	sum, err := readImport(g, open, func(key, value []byte) error {
		if err := kv.Set(key, value); err != nil {
			return fmt.Errorf("set %q: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if sum.Header != g.Import.Header {
		return fmt.Errorf("import: %s's header is not the one the genesis names", g.Import.File)
	}
	for _, c := range []struct {
		what      string
		file, gen any
	}{{"authority", sum.Authority, g.Authority}, {"params", sum.Params, g.Params}} {
		a, err1 := json.Marshal(c.file)
		b, err2 := json.Marshal(c.gen)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if !bytes.Equal(a, b) {
			return fmt.Errorf("import: the genesis's %s is %s, the export's %s", c.what, b, a)
		}
	}
	return nil
}

// readImport reads the export g names, with ReadExport, and checks the
// whole file's hash against the genesis's.
func readImport(g Genesis, open OpenFile, put func(key, value []byte) error) (ExportSummary, error) {
	if open == nil {
		return ExportSummary{}, errors.New("import: this genesis names an export file, and no file can be opened here")
	}
	f, err := open(g.Import.File)
	if err != nil {
		return ExportSummary{}, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	sum, err := ReadExport(f, put)
	if err != nil {
		return sum, fmt.Errorf("import %s: %w", g.Import.File, err)
	}
	if sum.SHA256 != g.Import.SHA256 {
		return sum, fmt.Errorf("import: %s has SHA-256 %s, the genesis names %s", g.Import.File, sum.SHA256, g.Import.SHA256)
	}
	return sum, nil
}

// FileSHA256 is the hex SHA-256 of everything r reads.
func FileSHA256(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
