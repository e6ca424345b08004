// Command lstm_text runs the LSTM sentiment classifier that dlc compiled
// into the Go package ./lstmtext on sentences of the example's synthetic
// language (see README.md): it scores a thousand fresh sentences with the
// whole-sequence call, then streams one sentence word by word with Step,
// printing the running sentiment.
//
//	go run ./examples/lstm_text
//	go run ./examples/lstm_text -say "the plot was boring and not fun"
//
// Regenerate ./lstmtext after changing model.dl or the weights:
//
//	go generate ./examples/lstm_text
package main

//go:generate go run ../../cmd/dlc compile model.dl -o lstmtext

import (
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/dlcompiler/dlc/examples/lstm_text/lstmtext"
)

var vocab = []string{"the", "movie", "was", "and", "it", "plot", "actors", "really", "very", "i",
	"good", "great", "fun", "bad", "awful", "boring", "not"}

const not = 16

// sentence draws a sentence by train.py's rules and returns its label
// (1 positive, 0 negative): sentiment words score ±1, negated by a "not"
// right before them; ties are redrawn.
func sentence(r *rand.Rand) ([lstmtext.InputIdsSize]int64, int) {
	for {
		var toks [lstmtext.InputIdsSize]int64
		for i := range toks {
			switch u := r.Float64(); {
			case u < 0.12:
				toks[i] = not
			case u < 0.32:
				toks[i] = int64(10 + r.IntN(6))
			default:
				toks[i] = int64(r.IntN(10))
			}
		}
		score := 0
		for i, t := range toks {
			s := 0
			switch {
			case t >= 10 && t <= 12:
				s = 1
			case t >= 13 && t <= 15:
				s = -1
			}
			if s != 0 && i > 0 && toks[i-1] == not {
				s = -s
			}
			score += s
		}
		if score != 0 {
			return toks, map[bool]int{true: 1, false: 0}[score > 0]
		}
	}
}

// positive is the softmax probability of the positive class.
func positive(logits *[lstmtext.OutputLogitsSize]float32) float64 {
	a, b := float64(logits[0]), float64(logits[1])
	return 1 / (1 + math.Exp(a-b))
}

func main() {
	say := flag.String("say", "the movie was not bad and the actors were really great", "a sentence to stream word by word (unknown words count as \"the\")")
	n := flag.Int("n", 1000, "random sentences to score")
	flag.Parse()

	m := lstmtext.New()
	r := rand.New(rand.NewPCG(7, 7))
	correct := 0
	var in lstmtext.Input
	var out lstmtext.Output
	for range *n {
		var label int
		in.Ids, label = sentence(r)
		if err := m.Run(&in, &out); err != nil {
			log.Fatal(err)
		}
		if (positive(&out.Logits) > 0.5) == (label == 1) {
			correct++
		}
	}
	fmt.Printf("accuracy %.1f%% on %d fresh sentences (whole-sequence Run)\n\n", 100*float64(correct)/float64(*n), *n)

	// Streaming: the model was compiled for 20 tokens; shorter sentences
	// are left-padded with "the", which carries no sentiment.
	words := strings.Fields(strings.ToLower(*say))
	const T = lstmtext.SequenceLength
	if len(words) > T {
		words = words[len(words)-T:]
	}
	ids := make([]int64, T-len(words), T)
	for _, w := range words {
		id := 0
		for j, v := range vocab {
			if v == w {
				id = j
			}
		}
		ids = append(ids, int64(id))
	}
	m.Reset()
	var step lstmtext.StepInput
	var stepOut lstmtext.StepOutput
	for i, id := range ids {
		step.Ids[0] = id
		if err := m.Step(&step, &stepOut); err != nil {
			log.Fatal(err)
		}
		if i >= T-len(words) {
			fmt.Printf("%-8s p(positive) = %.3f\n", words[i-(T-len(words))], positive(&stepOut.Logits))
		}
	}
}
