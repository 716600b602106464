// Command byzantine runs a CityID validator whose proposals are hostile,
// for the network tests in internal/faults, which build it with go build
// and run it in place of one validator's `cityid start`. It is the cityid
// node in every other respect: same home, same configuration, same
// application, same API.
//
// When the file byzantine/txs.json appears in its home (a Plan), the
// proposals it makes from then on alternate between two kinds:
//
//   - judged: a group of the plan's transactions that honest validators
//     judge in the block, the honest ones from its mempool between them.
//     Such a block is valid: it must commit, each hostile transaction
//     refused with its code and each honest one applied. The next judged
//     turn proposes the first group not yet committed, so no transaction
//     reaches the chain twice.
//   - invalid, in turn: the honest transactions with one of them twice
//     (duplicate), with a transaction already applied in an earlier block
//     (replay), or with the plan's transactions whose nonce is used
//     (used_nonce). Honest validators must refuse such a proposal in
//     ProcessProposal; the round moves on and the chain with it.
//
// Each proposal is noted, one JSON line (a Proposal), in
// byzantine/proposals.jsonl in its home, for the test to check against
// the chain and the honest validators' logs.
//
// It is not part of the cityid program and no flag or file of a real node
// turns it on: it exists only as this separate test binary.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/registry"
)

// Files under the home: where the test puts the Plan, and where the
// validator notes its proposals.
const (
	PlanFile    = "byzantine/txs.json"
	JournalFile = "byzantine/proposals.jsonl"
)

// Plan is what the test gives the validator to propose.
type Plan struct {
	// Judged are groups of transactions honest validators judge in the
	// block; each judged turn proposes the first group not all committed.
	Judged [][][]byte `json:"judged"`
	// UsedNonce are transactions whose nonce committed state has used:
	// they make a proposal invalid.
	UsedNonce [][]byte `json:"used_nonce"`
}

// The kinds of proposal, as the journal names them.
const (
	KindJudged    = "judged"
	KindDuplicate = "duplicate"
	KindReplay    = "replay"
	KindUsedNonce = "used_nonce"
)

// invalidKinds are the invalid turns, in the order they come.
var invalidKinds = []string{KindDuplicate, KindReplay, KindUsedNonce}

// Proposal is one line of the journal.
type Proposal struct {
	Height int64  `json:"height"`
	Turn   int    `json:"turn"`
	Kind   string `json:"kind"`
	Txs    int    `json:"txs"`    // transactions proposed
	Honest int    `json:"honest"` // of them, from the mempool
	// Hostile are the hashes of the hostile transactions proposed: a
	// judged group, or the invalid turn's offence (the duplicated, the
	// replayed or the used-nonce transactions).
	Hostile []string `json:"hostile,omitempty"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "byzantine:", err)
		os.Exit(1)
	}
}

// run takes the arguments testnode gives `cityid start`.
func run(args []string) error {
	if len(args) > 0 && args[0] == "start" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("byzantine", flag.ContinueOnError)
	home := fs.String("home", "", "the node's home, written by cityid testnet")
	var opts node.InitOptions
	fs.StringVar(&opts.HTTP, "http", "", "HTTP API listen address")
	fs.StringVar(&opts.RPC, "rpc", "", "CometBFT RPC listen address")
	fs.StringVar(&opts.P2P, "p2p", "", "CometBFT P2P listen address")
	fs.StringVar(&opts.DNS, "dns", "", "DNS listen address, or off")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *home == "" || !node.Initialized(*home) {
		return fmt.Errorf("--home %q holds no node: write it with cityid testnet first", *home)
	}
	for _, a := range []*string{&opts.RPC, &opts.P2P} {
		if *a != "" && !strings.Contains(*a, "://") {
			*a = "tcp://" + *a
		}
	}
	c, err := node.Load(*home)
	if err != nil {
		return err
	}
	c.Apply(opts)
	log := node.NewLogger(c.Log, os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h := &hostile{plan: filepath.Join(*home, PlanFile), journal: filepath.Join(*home, JournalFile), log: log.With("module", "byzantine")}
	r, err := node.Start(ctx, c, log, node.Options{WrapApp: func(app abci.Application) abci.Application {
		h.Application = app
		return h
	}})
	if err != nil {
		return err
	}
	log.Info("byzantine validator started: hostile proposals once " + h.plan + " appears")
	return r.Wait(ctx)
}

// hostile is the application with a byzantine PrepareProposal.
type hostile struct {
	abci.Application
	plan, journal string
	log           *slog.Logger

	// Only the consensus connection calls PrepareProposal and
	// FinalizeBlock, one at a time; mu guards against nothing else.
	mu        sync.Mutex
	loaded    *Plan
	committed map[[32]byte]bool // every transaction a finalized block held (a test network holds few); looked up only
	applied   []byte            // the last transaction a finalized block applied
	turns     int
}

// load reads the plan once its file is there.
func (h *hostile) load() *Plan {
	if h.loaded != nil {
		return h.loaded
	}
	b, err := os.ReadFile(h.plan)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var p Plan
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	if err != nil || len(p.Judged) == 0 {
		h.log.Error("hostile plan unreadable", "file", h.plan, "err", err)
		return nil
	}
	h.loaded = &p
	h.log.Info("hostile plan loaded", "groups", len(p.Judged), "used_nonce", len(p.UsedNonce))
	return h.loaded
}

// PrepareProposal proposes, turn by turn, a judged group of hostile
// transactions or an invalid block, the honest transactions in both.
func (h *hostile) PrepareProposal(ctx context.Context, req *abci.PrepareProposalRequest) (*abci.PrepareProposalResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.load()
	if p == nil {
		return h.Application.PrepareProposal(ctx, req)
	}
	h.turns++
	var out [][]byte
	var size int64
	add := func(tx []byte) bool {
		// CometBFT checks the block's transactions against MaxTxBytes
		// with their protobuf framing: a proposal over it is no block.
		n := types.ComputeProtoSizeForTxs([]types.Tx{tx})
		if size+n > req.MaxTxBytes {
			return false
		}
		size += n
		out = append(out, tx)
		return true
	}
	honest := req.Txs
	note := Proposal{Height: req.Height, Turn: h.turns, Kind: KindJudged, Honest: len(honest)}
	var bad [][]byte
	if h.turns%2 == 1 {
		for _, g := range p.Judged {
			for _, tx := range g {
				if !h.committed[sha256.Sum256(tx)] {
					bad = append(bad, tx)
				}
			}
			if len(bad) > 0 {
				break
			}
		}
	} else {
		note.Kind = invalidKinds[(h.turns/2-1)%len(invalidKinds)]
		switch note.Kind {
		case KindDuplicate:
			// One of the honest transactions twice; with none waiting,
			// bytes of its own twice.
			dup := []byte(fmt.Sprintf("byzantine duplicate at height %d", req.Height))
			if len(honest) > 0 {
				dup = honest[0]
			}
			bad = [][]byte{dup}
			if len(honest) == 0 {
				honest = [][]byte{dup}
			}
		case KindReplay:
			if h.applied != nil {
				bad = [][]byte{h.applied}
			}
		case KindUsedNonce:
			bad = p.UsedNonce
		}
	}
	// The hostile transactions first, with an honest one after each,
	// then the rest of the honest ones.
	for i, tx := range bad {
		if add(tx) {
			note.Hostile = append(note.Hostile, registry.TxHash(tx))
		}
		if i < len(honest) {
			add(honest[i])
		}
	}
	for i := len(bad); i < len(honest); i++ {
		add(honest[i])
	}
	note.Txs = len(out)
	h.log.Info("hostile proposal", "height", req.Height, "turn", h.turns, "kind", note.Kind, "txs", len(out), "honest", len(req.Txs), "hostile", len(note.Hostile), "bytes", size)
	if err := h.note(note); err != nil {
		return nil, err
	}
	return &abci.PrepareProposalResponse{Txs: out}, nil
}

// note appends a proposal to the journal.
func (h *hostile) note(p Proposal) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(h.journal, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// FinalizeBlock remembers which of the plan's transactions a block held,
// and the last transaction it applied, to propose it again.
func (h *hostile) FinalizeBlock(ctx context.Context, req *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	resp, err := h.Application.FinalizeBlock(ctx, req)
	if err != nil {
		return resp, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.committed == nil {
		h.committed = make(map[[32]byte]bool)
	}
	for i, tx := range req.Txs {
		h.committed[sha256.Sum256(tx)] = true
		if i < len(resp.TxResults) && resp.TxResults[i].Code == 0 {
			h.applied = tx
		}
	}
	return resp, nil
}
