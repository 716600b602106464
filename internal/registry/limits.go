package registry

// Every bound of the registry, with its reason. Bounds are part of consensus:
// changing one changes which transactions are valid, so it needs a coordinated
// upgrade of every node.
const (
	// MaxTxBytes bounds a whole signed envelope as it arrives in CheckTx:
	// the base64 of the largest body (a register_batch) plus the key, the
	// signature and the field names. CometBFT's mempool and block bounds
	// (internal/node) are set above it.
	MaxTxBytes = 2<<20 + 1<<10

	// MaxBatchBodyBytes bounds the body of a register_batch: 5,000
	// identifiers with a value or two each fit in well under it.
	MaxBatchBodyBytes = 1536 << 10

	// MaxInflateRatio bounds how many times its compressed bytes a
	// deflated body may inflate to (plus inflateSlack). A body is inflated
	// in CheckTx before its nonce can be read, so without it a key with
	// no rights makes every node inflate 1.5 MiB for 3 KB it sends, 650
	// times the work per byte a plain body costs. Real batches inflate
	// about 8 to 10 times (docs/transactions.md); a body that would pass
	// 32 travels plain (registry.SignDeflate does so itself).
	MaxInflateRatio = 32
	inflateSlack    = 1024

	// MaxBlockBodyBytes bounds the plain (inflated) bodies of one block's
	// transactions together: what a block of block.max_bytes held when
	// every body traveled as itself, so a block of compressed batches
	// costs no more to decode and apply than that (about 70,000
	// identifiers). block.max_bytes bounds the bytes that travel; this
	// bounds the work they stand for. The proposer fills a block up to
	// it (PrepareProposal) and validators refuse a proposal past it
	// (ProcessProposal), inflating no more than it to find out.
	MaxBlockBodyBytes = 8 << 20

	// MaxBatch bounds the identifiers of one register_batch: large enough
	// that a city registers a district's meters in one signed transaction,
	// small enough that one transaction's work stays a fraction of a block.
	MaxBatch = 5000

	// MaxBodyBytes bounds the signed body of every kind but
	// register_batch. 64 KiB holds a record at every
	// other bound in plain text (32 values of 1 KiB plus admins and names)
	// with room to spare; a record full of characters that JSON must escape
	// (quotes, control characters) can exceed it and is refused as
	// too_large. The envelope adds base64 (4/3) and the key and signature.
	MaxBodyBytes = 64 << 10

	// MaxValues bounds the values of one record, as a Handle server bounds a
	// handle's values: a record is something to resolve in one answer.
	MaxValues = 32

	// MaxValueBytes bounds the data of one value. A dataset's bytes live off
	// the ledger; the ledger holds only its descriptor, so 1 KiB is ample
	// and keeps a DNS TXT answer of one value within a single UDP packet.
	MaxValueBytes = 1024

	// MaxDatasetURIBytes bounds a dataset descriptor's URI, so that the
	// whole descriptor (URI, 64 hex digits of SHA-256, size, media type of
	// at most 127 bytes) stays within MaxValueBytes like any other value.
	MaxDatasetURIBytes = MaxValueBytes - 256

	// MaxAdmins bounds the admin keys of a record or application: a
	// consortium or a city department, not a population.
	MaxAdmins = 16

	// MaxNameBytes bounds names (city, sector, unit), contacts and reasons.
	MaxNameBytes = 256

	// MaxEndpointBytes bounds a city node's endpoint URL.
	MaxEndpointBytes = 512

	// MaxTypeBytes bounds a value type name, "namespace:name" included.
	MaxTypeBytes = 64

	// MaxValueIndex bounds a value's index. Handle uses small indexes (1, 2,
	// … and 100 for HS_ADMIN); a bound keeps them printable and sortable.
	MaxValueIndex = 65535

	// AdminIndex and PubKeyIndex are the first value indexes the Handle
	// interface gives a record's admins, as HS_ADMIN values (100, 101, …,
	// the Handle System's convention) pointing at HS_PUBKEY values (300,
	// 301, …). MaxAdmins of each are reserved: a user value there would
	// be shown in their place, and an HS_ADMIN would point at it.
	AdminIndex  = 100
	PubKeyIndex = 300

	// DefaultTTL is a value's time-to-live in seconds when none is given:
	// one day, the Handle System's default.
	DefaultTTL = 86400

	// MaxTTL bounds a value's time-to-live: one week, so a corrected record
	// reaches every cache within a week at most.
	MaxTTL = 7 * 86400

	// MaxScopeBytes bounds a grant's scope.
	MaxScopeBytes = 64

	// MaxAnchorEntries bounds an anchored access log's length: the
	// largest integer a JavaScript number (the portal's) holds exactly, so
	// every reader sees the count the ledger holds. No log reaches it.
	MaxAnchorEntries = 1<<53 - 1

	// MaxValidatorPower bounds one validator's voting power, far below
	// CometBFT's bound on the total (MaxTotalVotingPower, about 1.15e18)
	// however many validators there are.
	MaxValidatorPower = 1_000_000_000

	// MaxValidators bounds the validator set the authority may grow: a
	// consortium of registry institutes and large cities.
	MaxValidators = 150

	// MaxUpgradeNameBytes bounds an upgrade's name: a word an operator
	// types, and a handler's name in code.
	MaxUpgradeNameBytes = 64

	// MaxUpgradeInfoBytes bounds an upgrade plan's info: a few links to
	// the new binary and its checksums, as Cosmos SDK plans carry.
	MaxUpgradeInfoBytes = 1024

	// MaxAuthority bounds the members of the registry authority.
	MaxAuthority = 64

	// MaxUnit is the largest unit number (six digits, see DESIGN section 1).
	MaxUnit = 999999

	// MaxCityNumber is the largest allocated city number (six digits).
	MaxCityNumber = 999999

	// DefaultMaxGrantDays is how far ahead of the block time a grant may
	// expire unless genesis says otherwise: ten years, the term of a
	// long data-sharing agreement; a longer one is renewed.
	DefaultMaxGrantDays = 3653

	// MaxGrantDays bounds the genesis parameter: a hundred years keeps
	// every expiry within the years 0001–9999 that RFC 3339 and
	// encoding/json can write.
	MaxGrantDays = 36525

	// DefaultApplicationBlocks is how many blocks an application stays
	// open for votes unless genesis says otherwise: about a week at one
	// block a second. After it the application has expired, so a pending
	// application cannot hold its applicant's one open application
	// forever.
	DefaultApplicationBlocks = 604_800

	// DefaultVoteBlocks is how long a vote on an application or a
	// proposal counts: as long as an application is open.
	DefaultVoteBlocks = DefaultApplicationBlocks

	// DefaultUpgradeLeadBlocks is how many blocks ahead of the block that
	// schedules it an upgrade plan must be, unless genesis says otherwise
	// (Params.UpgradeLeadBlocks): a plan for the next height would stop
	// every node whose operator had no time to install the new binary.
	// It is a floor, not a schedule (docs/upgrade.md: choose hours or
	// days ahead): at one block a second about 17 minutes. It is not
	// larger because CityID's nodes make no empty blocks by default, so
	// a height comes only as fast as writes do, and a larger floor would
	// hold a quiet network's upgrade back for weeks.
	DefaultUpgradeLeadBlocks = 1_000

	// MaxTermBlocks bounds the genesis terms in blocks (about ten years
	// at one block a second).
	MaxTermBlocks = 315_360_000

	// MaxAllocateProbes bounds how many taken numbers an allocation skips
	// before it gives up, so one transaction's work stays bounded however
	// the number space has been filled by hand.
	MaxAllocateProbes = 1000
)
