package rules

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// ipFields are the ECS fields of type ip. Elasticsearch indexes their
// values as addresses, not as text, which changes what a query on them
// means:
//
//   - a term (KQL f:v, EQL ==, in, in~) takes an address or a CIDR block:
//     source.ip:"10.0.0.0/8" holds for 10.1.2.3, and two spellings of one
//     address ("::ffff:10.0.0.1" and "10.0.0.1", "2001:db8::1" and
//     "2001:DB8:0::1") are equal. A query value that is neither fails the
//     query, as it does in Elasticsearch;
//   - a range orders addresses, IPv4 below the rest of IPv6 (Lucene keeps an
//     IPv4 address as its IPv4-mapped IPv6 form);
//   - a document value that is no address is not indexed (Elastic's logs
//     templates set ignore_malformed), so it is no value at all: f:* does
//     not hold for it, and no term matches it;
//   - a terms aggregation, and so a new_terms rule, sees an address in its
//     canonical spelling.
//
// Wildcards (KQL *, EQL : and like), regular expressions and string
// functions keep their keyword meaning on the text (see docs/rules.md).
var ipFields = map[string]bool{
	"client.ip":                       true,
	"client.nat.ip":                   true,
	"destination.ip":                  true,
	"destination.nat.ip":              true,
	"host.ip":                         true,
	"observer.ip":                     true,
	"related.ip":                      true,
	"server.ip":                       true,
	"server.nat.ip":                   true,
	"source.ip":                       true,
	"source.nat.ip":                   true,
	"threat.indicator.ip":             true,
	"threat.enrichments.indicator.ip": true,
}

// ErrNotAddress is why a query on an ip field fails to compile: a term's
// value is neither an address nor a CIDR block, or a range's bound is no
// address.
var ErrNotAddress = errors.New("not an IP address (or, in a term, a CIDR block)")

// ipOf is the address a document value indexes as in an ip field: a string
// holding an IPv4 or IPv6 address (IPv4-mapped IPv6 read as IPv4, as
// Elasticsearch reads it). Anything else indexes nothing.
func ipOf(v gjson.Result) (netip.Addr, bool) {
	if v.Type != gjson.String {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(v.Str)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// IPText is the canonical spelling of an ip field's value, and false when
// the value is no address (and so is not indexed).
func IPText(v gjson.Result) (string, bool) {
	a, ok := ipOf(v)
	if !ok {
		return "", false
	}
	return a.String(), true
}

// ipQueryValue reads a query's value for an ip field: an address or a CIDR
// block. As in Elasticsearch, an IPv4-mapped IPv6 address is the IPv4
// address, also in a block: "::ffff:10.0.0.0/8" is 10.0.0.0/8.
func ipQueryValue(f *Field, l Literal) (netip.Prefix, error) {
	bad := fmt.Errorf("%s is an ip field: %q is %w", f.Name, l.Text, ErrNotAddress)
	if l.Kind != LitString && l.Kind != LitNumber {
		return netip.Prefix{}, bad
	}
	text, bits, block := strings.Cut(l.Text, "/")
	a, err := netip.ParseAddr(text)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, bad
	}
	a = a.Unmap()
	n := a.BitLen()
	if block {
		if n, err = strconv.Atoi(bits); err != nil || bits != strconv.Itoa(n) {
			return netip.Prefix{}, bad
		}
	}
	p, err := a.Prefix(n)
	if err != nil {
		return netip.Prefix{}, bad
	}
	return p, nil
}

// ipEqualTest is a term or terms query on an ip field.
func ipEqualTest(p *Pred) (func(gjson.Result) bool, error) {
	var blocks []netip.Prefix
	for _, l := range p.Values {
		b, err := ipQueryValue(p.Field, l)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, b)
	}
	return inBlocks(blocks), nil
}

// inBlocks holds for a value that is an address in one of blocks.
func inBlocks(blocks []netip.Prefix) func(gjson.Result) bool {
	return func(v gjson.Result) bool {
		a, ok := ipOf(v)
		if !ok {
			return false
		}
		for _, b := range blocks {
			if b.Contains(a) {
				return true
			}
		}
		return false
	}
}

// ipExistsTest holds for a value an ip field indexes.
func ipExistsTest(v gjson.Result) bool {
	_, ok := ipOf(v)
	return ok
}

// ipRangeTest is a range query on an ip field.
func ipRangeTest(p *Pred) (func(gjson.Result) bool, error) {
	l := p.Values[0]
	bound, err := ipQueryValue(p.Field, l)
	if err != nil || !bound.IsSingleIP() {
		return nil, fmt.Errorf("%s is an ip field: the range bound %q is %w", p.Field.Name, l.Text, ErrNotAddress)
	}
	lit := bound.Addr()
	return func(v gjson.Result) bool {
		a, ok := ipOf(v)
		if !ok {
			return false
		}
		return holds(p.Op, ipCompare(a, lit))
	}, nil
}

// ipCompare orders addresses as Lucene's InetAddressPoint does: by their
// 16-byte IPv6 form, IPv4 as IPv4-mapped.
func ipCompare(a, b netip.Addr) int {
	x, y := a.As16(), b.As16()
	for i := range x {
		switch {
		case x[i] < y[i]:
			return -1
		case x[i] > y[i]:
			return 1
		}
	}
	return 0
}
