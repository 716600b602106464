package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	cmtdb "github.com/cometbft/cometbft-db"
	"github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/bench/workload"
	"github.com/cityid/cityid/internal/node"
)

// LightFigure is the client's cost of trusting a new header: what
// verifying an answer's proof against a signed app hash adds once per
// header. An answer read at height H is proved against the app hash in
// header H+1, and every answer read at H shares that header, so a client
// that resolves many identifiers pays it once per block it sees, not once
// per resolve: per resolve it is this figure over the answers that share
// a header.
type LightFigure struct {
	Validators int `json:"validators"`
	Headers    int `json:"headers"` // signed headers of the node's chain measured
	// Decode is one light block (signed header and validator set, as
	// GET /v1/light/{h} sends it) decoded from CometBFT's JSON and checked
	// with ValidateBasic.
	Decode Timing `json:"decode"`
	// Verify is light.VerifyAdjacent of a header against the one before:
	// hashes and the commit's signatures (one per validator needed for
	// more than 2/3 of the power), in process.
	Verify Timing `json:"verify"`
	// Header is client.Verifier.Header of the next height, end to end:
	// the light block fetched from the node over HTTP, verified, cross-
	// checked against the witness (here the node itself, fetched again),
	// and stored in the verifier's (in-memory) trusted store.
	Header Timing `json:"header"`
}

// measureLightClient starts a one-validator node (node.Init defaults, on
// free loopback ports), commits the workload's setup and registrations
// until it has made at least headers blocks, and measures the light
// client's work per header against them.
func measureLightClient(ctx context.Context, headers, rounds int) (LightFigure, error) {
	var lf LightFigure
	home, err := os.MkdirTemp("", "cityid-bench-light-")
	if err != nil {
		return lf, err
	}
	defer func() {
		time.Sleep(indexerSettle) // see runApp
		os.RemoveAll(home)
	}()
	conf, err := initHome(home, "bench-light", "off")
	if err != nil {
		return lf, err
	}
	run, err := node.Start(ctx, conf, slog.New(slog.DiscardHandler))
	if err != nil {
		return lf, err
	}
	defer run.Stop()

	// A few blocks with transactions: the city setup, then registrations.
	f, err := workload.New(benchChainID, nil, 1)
	if err != nil {
		return lf, err
	}
	if _, err := setupCity(ctx, run.Chain, home, f); err != nil {
		return lf, err
	}
	regs, err := f.RegisterTxs(0, headers)
	if err != nil {
		return lf, err
	}
	lastWrite := run.Chain.Store().Version()
	for i, tx := range regs {
		if lastWrite >= int64(headers)+1 {
			break
		}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		res, err := run.Chain.Submit(sctx, tx)
		cancel()
		if err != nil {
			return lf, err
		}
		if res.Err != nil {
			return lf, fmt.Errorf("register %d: %s", i, res.Err.Msg)
		}
		lastWrite = res.Height
	}
	// Header H signs the app hash of H-1: wait for the block after the
	// last write, which CometBFT makes at once (and then none while the
	// chain is idle).
	top := lastWrite + 1
	for deadline := time.Now().Add(10 * time.Second); run.Chain.Store().Version() < top; {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return lf, fmt.Errorf("no block after height %d", lastWrite)
		}
		time.Sleep(50 * time.Millisecond)
	}
	base := "http://" + run.HTTPAddr

	raws := make([][]byte, top+1)
	blocks := make([]*types.LightBlock, top+1)
	for h := int64(1); h <= top; h++ {
		if raws[h], err = fetch(base+"/v1/light/"+strconv.FormatInt(h, 10), 200); err != nil {
			return lf, err
		}
		if blocks[h], err = client.DecodeLightBlock(raws[h], benchChainID); err != nil {
			return lf, fmt.Errorf("light block %d: %w", h, err)
		}
	}
	lf.Validators, lf.Headers = blocks[top].ValidatorSet.Size(), int(top-1)
	for range rounds {
		var dec, ver histogram
		for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
			for h := int64(2); h <= top; h++ {
				t0 := time.Now()
				if _, err := client.DecodeLightBlock(raws[h], benchChainID); err != nil {
					return lf, err
				}
				dec.record(time.Since(t0))
				now := blocks[h].Time.Add(time.Second)
				t0 = time.Now()
				if err := light.VerifyAdjacent(blocks[h-1].SignedHeader, blocks[h].SignedHeader, blocks[h].ValidatorSet,
					client.DefaultTrustingPeriod, now, 10*time.Second); err != nil {
					return lf, fmt.Errorf("verify header %d: %w", h, err)
				}
				ver.record(time.Since(t0))
			}
		}
		lf.Decode = lf.Decode.better(timingOf(&dec))
		lf.Verify = lf.Verify.better(timingOf(&ver))

		c, err := client.New(base)
		if err != nil {
			return lf, err
		}
		v, err := client.NewVerifier(ctx, c, nil, client.TrustOptions{Height: 1, Hash: blocks[1].Hash()}, cmtdb.NewMemDB())
		if err != nil {
			return lf, err
		}
		var hdr histogram
		for h := int64(2); h <= top; h++ {
			t0 := time.Now()
			if _, err := v.Header(ctx, h); err != nil {
				return lf, err
			}
			hdr.record(time.Since(t0))
		}
		lf.Header = lf.Header.better(timingOf(&hdr))
	}
	return lf, nil
}
