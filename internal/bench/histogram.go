package bench

import (
	"math/bits"
	"time"
)

// histogram counts latencies in buckets of at most 1/64 (1.6%) of their
// value: exact below 128 ns, then 64 buckets per power of two, up to
// about 18 minutes. It is a fixed array, so recording allocates nothing
// and one per load-generator goroutine is merged at the end.
type histogram struct {
	counts [histBuckets]uint64
	n      uint64
	sum    time.Duration
	max    time.Duration
}

const (
	histSub     = 64 // buckets per power of two
	histLinear  = 2 * histSub
	histMaxExp  = 40 // 2^40 ns ≈ 18 min
	histBuckets = histLinear + (histMaxExp-7)*histSub
)

func histIndex(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < histLinear {
		return int(v)
	}
	shift := bits.Len64(v) - 7 // v>>shift is in [64, 128)
	i := histLinear + (shift-1)*histSub + int(v>>shift) - histSub
	return min(i, histBuckets-1)
}

// histValue is the middle of bucket i.
func histValue(i int) time.Duration {
	if i < histLinear {
		return time.Duration(i)
	}
	shift := (i-histLinear)/histSub + 1
	lo := uint64((i-histLinear)%histSub+histSub) << shift
	return time.Duration(lo + (uint64(1)<<shift)/2)
}

func (h *histogram) record(d time.Duration) {
	h.counts[histIndex(d)]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile is the latency below which a fraction q of the recorded ones
// fall, to the bucket's precision; 0 when nothing was recorded.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n-1)) + 1
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(histValue(i), h.max)
		}
	}
	return h.max
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}
