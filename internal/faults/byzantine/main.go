// Command byzantine runs a CityID validator whose proposals are hostile,
// for the network tests in internal/faults, which build it with go build
// and run it in place of one validator's `cityid start`. It is the cityid
// node in every other respect: same home, same configuration, same
// application, same API.
//
// When the file byzantine/txs.json appears in its home (a JSON array of
// transactions, base64), every block it proposes from then on holds those
// transactions, the honest ones from its mempool between them, a second
// copy of the first honest one, and the transactions of the block before
// again, within the block's size. The honest validators must refuse each
// hostile transaction, apply the honest ones once, and agree.
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
)

// TxsFile is where, under the home, the test puts the hostile
// transactions.
const TxsFile = "byzantine/txs.json"

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
	h := &hostile{path: filepath.Join(*home, TxsFile), log: log.With("module", "byzantine")}
	r, err := node.Start(ctx, c, log, node.Options{WrapApp: func(app abci.Application) abci.Application {
		h.Application = app
		return h
	}})
	if err != nil {
		return err
	}
	log.Info("byzantine validator started: hostile proposals once " + h.path + " appears")
	return r.Wait(ctx)
}

// hostile is the application with a byzantine PrepareProposal.
type hostile struct {
	abci.Application
	path string
	log  *slog.Logger

	// Only the consensus connection calls PrepareProposal and
	// FinalizeBlock, one at a time; mu guards against nothing else.
	mu    sync.Mutex
	txs   [][]byte // the hostile transactions, once loaded
	last  [][]byte // the transactions of the last block finalized
	turns int
}

// load reads the hostile transactions once their file is there.
func (h *hostile) load() [][]byte {
	if h.txs != nil {
		return h.txs
	}
	b, err := os.ReadFile(h.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var txs [][]byte
	if err == nil {
		err = json.Unmarshal(b, &txs)
	}
	if err != nil || len(txs) == 0 {
		h.log.Error("hostile transactions unreadable", "file", h.path, "err", err)
		return nil
	}
	h.txs = txs
	h.log.Info("hostile transactions loaded", "txs", len(txs))
	return txs
}

// PrepareProposal proposes the hostile transactions with the honest ones
// between them, a duplicate and the last block's transactions again.
func (h *hostile) PrepareProposal(ctx context.Context, req *abci.PrepareProposalRequest) (*abci.PrepareProposalResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	bad := h.load()
	if bad == nil {
		return h.Application.PrepareProposal(ctx, req)
	}
	h.turns++
	var out [][]byte
	var size int64
	add := func(tx []byte) {
		// CometBFT checks the block's transactions against MaxTxBytes
		// with their protobuf framing: a proposal over it is no block.
		n := types.ComputeProtoSizeForTxs([]types.Tx{tx})
		if size+n > req.MaxTxBytes {
			return
		}
		size += n
		out = append(out, tx)
	}
	honest := req.Txs
	for i, tx := range bad {
		add(tx)
		if i < len(honest) {
			add(honest[i])
		}
	}
	for i := len(bad); i < len(honest); i++ {
		add(honest[i])
	}
	if len(honest) > 0 {
		add(honest[0])
	}
	ours := make(map[[32]byte]bool, len(bad)) // looked up only
	for _, tx := range bad {
		ours[sha256.Sum256(tx)] = true
	}
	replays := 0
	for _, tx := range h.last {
		if !ours[sha256.Sum256(tx)] {
			add(tx)
			replays++
		}
	}
	h.log.Info("hostile proposal", "height", req.Height, "turn", h.turns, "txs", len(out), "honest", len(honest), "replays", replays, "bytes", size)
	return &abci.PrepareProposalResponse{Txs: out}, nil
}

// FinalizeBlock remembers the block's transactions, to propose them again.
func (h *hostile) FinalizeBlock(ctx context.Context, req *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	h.mu.Lock()
	h.last = req.Txs
	h.mu.Unlock()
	return h.Application.FinalizeBlock(ctx, req)
}
