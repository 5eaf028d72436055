package detect_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/tidewatch/tidewatch/shared/baseline"
	"github.com/tidewatch/tidewatch/shared/detect"
	"github.com/tidewatch/tidewatch/shared/window"
)

// Example shows one invocation of the pipeline for one workload: fold the
// batch, merge into the persisted open minutes, close what the watermark
// allows, evaluate, and persist both states.
func Example() {
	const w = "ecs/prod/service/api"
	cfg := detect.DefaultConfig()
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

	// Persisted state, empty on the first invocation.
	var openState, modelState []byte

	for batch := range 3 {
		var agg window.Aggregator
		for i := range 100 {
			at := start.Add(time.Duration(batch*20+i%20) * time.Minute)
			agg.Add(window.Flow{Workload: w, Time: at, Direction: window.Out, Peer: netip.MustParseAddr("10.0.1.5"),
				PeerPort: 5432, LocalPort: 40000 + i, Protocol: window.ProtocolTCP, Bytes: 1500, Packets: 3, Accepted: true})
		}
		watermark := start.Add(time.Duration(batch*20+20) * time.Minute) // latest event time seen

		open := window.Open{Workload: w, Lateness: cfg.Lateness}
		if openState != nil {
			if err := open.UnmarshalBinary(openState); err != nil {
				panic(err)
			}
		}
		for _, p := range agg.Partials() {
			if err := open.Merge(p); err != nil {
				panic(err)
			}
		}
		wins := open.Close(watermark)

		m := baseline.New(w)
		if modelState != nil {
			var err error
			if m, err = baseline.Unmarshal(modelState); err != nil {
				panic(err)
			}
		}
		sigs := detect.Evaluate(w, wins, m, cfg)
		openState, _ = open.MarshalBinary()
		modelState, _ = m.Marshal()
		fmt.Printf("batch %d: %d windows closed, %d open, %d signals, trained %v\n", batch, len(wins), open.Len(), len(sigs), m.Trained())
	}
	// Output:
	// batch 0: 10 windows closed, 10 open, 0 signals, trained 10m0s
	// batch 1: 20 windows closed, 10 open, 0 signals, trained 30m0s
	// batch 2: 20 windows closed, 10 open, 0 signals, trained 50m0s
}
