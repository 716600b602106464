package chain

import (
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// Codespace is the ABCI codespace of CityID's result codes.
const Codespace = "cityid"

// CodeOK is the ABCI result code of success. The numbers of refusals come
// from the one error table, wire.Errors: they are part of the wire
// protocol (CometBFT RPC clients see them). The result's Info carries the
// registry's string code too.
const CodeOK = wire.ABCIOK

// ABCICode returns the ABCI result code of a registry error (CodeOK for nil).
func ABCICode(err *registry.Error) uint32 { return wire.ABCICode(err) }

// registryCode maps an ABCI code back to the registry's string code.
func registryCode(c uint32) string { return wire.CodeOfABCI(c) }
