package signal

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Series is a metric minute by minute around an alert, with the band the
// baseline expected, so that a reader sees how far and how long it stood
// out. Value i of each slice is for the step starting at Start + i×Step;
// NaN marks a step with no value. The three slices have the same length.
type Series struct {
	Start    time.Time
	Step     time.Duration
	Observed []float64
	Low      []float64
	High     []float64
}

// Len returns the number of steps.
func (s *Series) Len() int { return len(s.Observed) }

// At returns the start of step i.
func (s *Series) At(i int) time.Time { return s.Start.Add(time.Duration(i) * s.Step) }

// Trim drops the oldest steps, keeping at most n.
func (s *Series) Trim(n int) {
	if drop := s.Len() - n; drop > 0 {
		s.Start = s.At(drop)
		s.Observed, s.Low, s.High = s.Observed[drop:], s.Low[drop:], s.High[drop:]
	}
}

// seriesJSON is the wire form: {"start":RFC 3339,"step":seconds,
// "observed":[...],"low":[...],"high":[...]}, missing values as null and
// numbers with four significant digits (a chart needs no more, and the
// form must fit an ASFF product field).
type seriesJSON struct {
	Start    string    `json:"start"`
	Step     int64     `json:"step"`
	Observed []jsonNum `json:"observed"`
	Low      []jsonNum `json:"low"`
	High     []jsonNum `json:"high"`
}

type jsonNum float64

func (n jsonNum) MarshalJSON() ([]byte, error) {
	v := float64(n)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', 4, 64), nil
}

func (n *jsonNum) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = jsonNum(math.NaN())
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("series value %s: %w", b, err)
	}
	*n = jsonNum(v)
	return nil
}

func nums(v []float64) []jsonNum {
	out := make([]jsonNum, len(v))
	for i, x := range v {
		out[i] = jsonNum(x)
	}
	return out
}

func floats(v []jsonNum) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// MarshalJSON writes the wire form described on seriesJSON.
func (s Series) MarshalJSON() ([]byte, error) {
	return json.Marshal(seriesJSON{
		Start: s.Start.UTC().Format(time.RFC3339), Step: int64(s.Step / time.Second),
		Observed: nums(s.Observed), Low: nums(s.Low), High: nums(s.High),
	})
}

// ErrSeries reports a series whose parts do not fit together.
var ErrSeries = errors.New("malformed series")

// UnmarshalJSON reads the wire form, checking that it is whole.
func (s *Series) UnmarshalJSON(b []byte) error {
	var w seriesJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	start, err := time.Parse(time.RFC3339, w.Start)
	if err != nil {
		return fmt.Errorf("%w: start: %v", ErrSeries, err)
	}
	if w.Step <= 0 || len(w.Low) != len(w.Observed) || len(w.High) != len(w.Observed) {
		return fmt.Errorf("%w: step %d s, %d observed, %d low, %d high values",
			ErrSeries, w.Step, len(w.Observed), len(w.Low), len(w.High))
	}
	*s = Series{Start: start.UTC(), Step: time.Duration(w.Step) * time.Second,
		Observed: floats(w.Observed), Low: floats(w.Low), High: floats(w.High)}
	return nil
}
