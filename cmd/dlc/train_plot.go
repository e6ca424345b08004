package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/dlcompiler/dlc/train"
)

// The curves of dlc train --plot are drawn with gonum.org/v1/plot, dlc's
// one dependency outside code generation: axes, ticks, legends and text
// rendering are a plotting library's job, and generated packages never
// import it (only cmd/dlc does).

// readLog reads the epochs of a CSV log written by dlc train --log, for
// a resumed run's plot. A missing file is no epochs.
func readLog(path string) ([]train.EpochStats, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var eps []train.EpochStats
	for i, r := range rows {
		if i == 0 || len(r) < 5 {
			continue
		}
		var v [5]float64
		for j := range v {
			if v[j], err = strconv.ParseFloat(r[j], 64); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
			}
		}
		eps = append(eps, train.EpochStats{Epoch: int(v[0]), Loss: v[1], Acc: v[2], TestLoss: v[3], TestAcc: v[4]})
	}
	return eps, nil
}

// writePlot draws the loss (top) and the accuracy (bottom, class losses
// only) of eps against the epoch, training and test, into a PNG file,
// written atomically.
func writePlot(path, title string, eps []train.EpochStats) error {
	series := func(f func(train.EpochStats) float64) plotter.XYs {
		var xy plotter.XYs
		for _, e := range eps {
			if v := f(e); !math.IsNaN(v) && !math.IsInf(v, 0) {
				xy = append(xy, plotter.XY{X: float64(e.Epoch), Y: v})
			}
		}
		return xy
	}
	loss := panel(title, "loss",
		series(func(e train.EpochStats) float64 { return e.Loss }),
		series(func(e train.EpochStats) float64 { return e.TestLoss }))
	plots := [][]*plot.Plot{{loss}}
	if acc := series(func(e train.EpochStats) float64 { return 100 * e.Acc }); len(acc) > 0 {
		plots = append(plots, []*plot.Plot{panel("", "accuracy (%)", acc,
			series(func(e train.EpochStats) float64 { return 100 * e.TestAcc }))})
	}
	w, h := 6*vg.Inch, vg.Length(len(plots))*3*vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	canvases := plot.Align(plots, draw.Tiles{Rows: len(plots), Cols: 1, PadY: vg.Millimeter * 4}, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}

// panel is one plot of a training and a test curve.
func panel(title, ylabel string, tr, te plotter.XYs) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	for i, s := range []plotter.XYs{tr, te} {
		if len(s) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(s)
		if err != nil {
			continue // NaN-free by construction; an empty series is skipped above
		}
		c := []color.Color{color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 214, G: 39, B: 40, A: 255}}[i]
		l.Color, pts.Color = c, c
		p.Add(l, pts)
		p.Legend.Add([]string{"training", "test"}[i], l, pts)
	}
	p.X.Tick.Marker = plot.TickerFunc(epochTicks)
	return p
}

// epochTicks marks whole epochs, at most about ten of them.
func epochTicks(min, max float64) []plot.Tick {
	step := math.Max(1, math.Ceil((max-min)/10))
	var ts []plot.Tick
	for e := math.Ceil(min); e <= max; e += step {
		ts = append(ts, plot.Tick{Value: e, Label: strconv.Itoa(int(e))})
	}
	return ts
}
