package node

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/privval"

	"github.com/cityid/cityid/internal/chain"
)

// SignerOptions say where a remote signer's validator key is and which
// node it signs for.
type SignerOptions struct {
	// KeyFile and StateFile are CometBFT's priv_validator_key.json and
	// priv_validator_state.json: the key, and the last height, round and
	// step it signed, which keeps it from signing two different votes or
	// proposals for one of them (double signing), across restarts.
	KeyFile, StateFile string
	ChainID            string
	// Node is the validator node's priv_validator_laddr, tcp://host:port
	// or unix://path: the signer connects to it.
	Node string
}

// RunSigner keeps a validator's key out of its node: it connects to the
// node's priv_validator_laddr and signs the node's votes and proposals
// until ctx ends, refusing any that would sign twice for one height, round
// and step (CometBFT's FilePV, whose state file records what it signed).
// It reconnects when the node restarts. Outside consensus it signs only a
// genesis member file of its chain, for `cityid genesis member`, which
// listens on the same address (memberOnlyPV).
func RunSigner(ctx context.Context, o SignerOptions, log *slog.Logger) error {
	if o.KeyFile == "" || o.StateFile == "" || o.ChainID == "" || o.Node == "" {
		return errors.New("a signer needs its key file, its state file, the chain ID and the node's priv_validator_laddr")
	}
	for _, f := range []string{o.KeyFile, o.StateFile} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("signer: %w", err)
		}
	}
	pv, err := loadFilePV(o.KeyFile, o.StateFile)
	if err != nil {
		return err
	}
	var dialer privval.SocketDialer
	switch {
	case strings.HasPrefix(o.Node, "tcp://"):
		// The connection is a CometBFT secret connection: the signer's
		// own key for it is made afresh.
		dialer = privval.DialTCPFn(strings.TrimPrefix(o.Node, "tcp://"), 5*time.Second, ed25519.GenPrivKey())
	case strings.HasPrefix(o.Node, "unix://"):
		dialer = privval.DialUnixFn(strings.TrimPrefix(o.Node, "unix://"))
	default:
		return fmt.Errorf("signer: node address %q is not tcp://host:port or unix://path", o.Node)
	}
	dialer = stoppableDialer(ctx, dialer)
	cmtLog := chain.NewCometLogger(log.With("module", "signer"))
	// The server redials by itself whenever the connection drops (the
	// node restarted): one server serves until ctx ends.
	endpoint := privval.NewSignerDialerEndpoint(cmtLog, dialer,
		privval.SignerDialerEndpointTimeoutReadWrite(5*time.Second),
		privval.SignerDialerEndpointConnRetries(1<<30))
	server := privval.NewSignerServer(endpoint, o.ChainID, memberOnlyPV{FilePV: pv, chainID: o.ChainID})
	if err := server.Start(); err != nil {
		return fmt.Errorf("signer: %w", err)
	}
	// The address and public key, as `genesis member` prints those of
	// the signer that connected to it: the operator compares the two.
	log.Info("signing for the validator", "node", o.Node, "chain_id", o.ChainID, "address", pv.GetAddress().String(),
		"pub_key", hex.EncodeToString(pv.Key.PubKey.Bytes()))
	<-ctx.Done()
	_ = server.Stop()
	return nil
}

// SignerCommand is the `cityid signer` command to run on the signer's
// machine for a node (or `genesis member`) listening on laddr, its
// priv_validator_laddr. A laddr on every address (tcp://0.0.0.0:port,
// tcp://[::]:port, tcp://:port) is no address to dial from another
// machine: the command then names NODE-HOST, and note says what to put
// there.
func SignerCommand(chainID, laddr string) (cmd, note string) {
	node := laddr
	if rest, ok := strings.CutPrefix(laddr, "tcp://"); ok {
		if host, port, err := net.SplitHostPort(rest); err == nil {
			if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
				node = "tcp://" + net.JoinHostPort("NODE-HOST", port)
				note = fmt.Sprintf("NODE-HOST is this machine's address as the signer's machine reaches it: %s listens on every address", laddr)
			}
		}
	}
	return fmt.Sprintf("cityid signer --chain-id %s --node %s --key /path/to/priv_validator_key.json --state /path/to/priv_validator_state.json", chainID, node), note
}

// stoppableDialer is dial until ctx ends, then a dialer of connections
// already closed. CometBFT's dialer endpoint redials (ensureConnection)
// without looking at whether its server was stopped: after the signer
// stops, a redial could still connect to whatever listens at the node's
// address next (the node restarted, or `cityid genesis member`) and hold
// that connection unanswered, so the listener's requests time out. A
// closed connection instead makes the server's loop read EOF, see that it
// was stopped, and end.
func stoppableDialer(ctx context.Context, dial privval.SocketDialer) privval.SocketDialer {
	closed := func() net.Conn {
		c, _ := net.Pipe()
		c.Close()
		return c
	}
	return func() (net.Conn, error) {
		if ctx.Err() != nil {
			return closed(), nil
		}
		conn, err := dial()
		if err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			conn.Close() // dialed while the signer stopped
			return closed(), nil
		}
		return lostConn{conn}, nil
	}
}

// lostConn is a connection to the node whose failed reads say they timed
// out. CometBFT's endpoint drops a connection, and its server redials,
// only on a read that timed out; on EOF (the node stopped, or restarted
// for an upgrade) it kept the dead connection and read it again at once,
// forever, at full CPU, and the restarted node waited for a signer that
// never came back (TestSignerRedialsARestartedNode).
type lostConn struct{ net.Conn }

func (c lostConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	var t interface{ Timeout() bool }
	if err != nil && !(errors.As(err, &t) && t.Timeout()) {
		err = connLost{err}
	}
	return n, err
}

// connLost is a read error of a connection that is gone.
type connLost struct{ err error }

func (e connLost) Error() string {
	return "the node closed the connection (it stopped or restarted; dialing it again): " + e.err.Error()
}
func (e connLost) Unwrap() error { return e.err }

// Timeout reports true so that CometBFT's endpoint drops the connection
// (signerEndpoint.ReadMessage) and its server dials again.
func (connLost) Timeout() bool { return true }

// memberOnlyPV is the signer's validator key: votes and proposals as
// FilePV signs them, with its double-sign checks, and, outside consensus,
// nothing but a genesis member file of the signer's own chain.
//
// CometBFT's signer protocol has a SignBytes request that FilePV answers
// for any bytes, with no check of what it signed: whoever holds the
// node's end of the connection could have had a vote or a proposal signed
// that way, conflicting with one signed before, and the state file would
// never know. Refusing every other SignBytes closes that; a member message
// starts with a domain no consensus message starts with (memberDomain).
type memberOnlyPV struct {
	*privval.FilePV
	chainID string
}

// SignBytes signs msg only if it is a member message for the signer's
// chain.
func (pv memberOnlyPV) SignBytes(msg []byte) ([]byte, error) {
	chainID, ok := memberMessageChain(msg)
	if !ok {
		return nil, errors.New("cityid signer signs no bytes outside consensus but a genesis member file")
	}
	if chainID != pv.chainID {
		return nil, fmt.Errorf("the member file is for chain %q, and this signer signs for %q", chainID, pv.chainID)
	}
	return pv.FilePV.SignBytes(msg)
}

// loadFilePV is privval.LoadFilePV, which exits the process on a file it
// cannot read: the files are read and decoded here first, so a bad one is
// an error that names it.
func loadFilePV(keyFile, stateFile string) (*privval.FilePV, error) {
	var key privval.FilePVKey
	var state privval.FilePVLastSignState
	for _, f := range []struct {
		path string
		into any
	}{{keyFile, &key}, {stateFile, &state}} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return nil, fmt.Errorf("signer: %w", err)
		}
		if err := cmtjson.Unmarshal(b, f.into); err != nil {
			return nil, fmt.Errorf("signer: %s: %w", f.path, err)
		}
	}
	if key.PrivKey == nil {
		return nil, fmt.Errorf("signer: %s holds no private key", keyFile)
	}
	return privval.LoadFilePV(keyFile, stateFile), nil
}
