// Package conformance replays vfilter's golden test corpus against vqlq.
// The corpus is not part of this repository: the test reads it from
// ../shared/conformance/vfilter (next to the checkout) or from the folder
// named by VQLQ_CONFORMANCE_DIR, and skips, saying where it looked, when
// neither exists. fixtures.go recreates the fixture environment the
// corpus README describes; deviations.txt lists the cases vqlq answers
// differently on purpose, each with its reason.
package conformance
