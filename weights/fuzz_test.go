package weights

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"
)

// safetensorsSeeds returns valid and malformed safetensors inputs for the
// fuzz corpus.
func safetensorsSeeds(t testing.TB) [][]byte {
	valid, err := EncodeSafetensors(sampleTensors(), map[string]string{"format": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	all := "{" + stEnt("a", "F16", "[2]", "[0,4]") + "," + stEnt("b", "BF16", "[1,1]", "[4,6]") + "," +
		stEnt("c", "F64", "[1]", "[8,16]") + "," + stEnt("d", "I32", "[]", "[16,20]") + "," +
		stEnt("e", "I64", "[0,3]", "[20,20]") + "," + stEnt("f", "F32", "[1]", "[20,24]") + `,"__metadata__":{"k":"v"}}`
	return [][]byte{
		valid,
		rawST(all, le16(0x3c00, 0x0001, 0x3f80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x7c00, 0x7e01)),
		rawST("{}", nil),
		rawST(`{"__metadata__":{}}`, nil),
		rawST("{"+stEnt("w", "F32", "[3,10]", "[0,100]")+"}", make([]byte, 100)),
		rawST("{"+stEnt("a", "F32", "[2]", "[0,8]")+","+stEnt("b", "F32", "[1]", "[4,8]")+"}", make([]byte, 8)),
		rawST("{"+stEnt("w", "F32", "[-1]", "[0,4]")+"}", make([]byte, 4)),
		rawST("{"+stEnt("w", "F32", "[4294967296,4294967296]", "[0,4]")+"}", make([]byte, 4)),
		rawST("{"+stEnt("w", "F32", "[1099511627776]", "[0,4398046511104]")+"}", make([]byte, 4)),
		rawST(`{"w":{"dtype":"F32",}`, nil),
		binary.LittleEndian.AppendUint64(nil, 1<<62),
		valid[:len(valid)/2],
		{},
	}
}

// FuzzParseSafetensors checks that ParseSafetensors never panics or
// allocates unboundedly, and that anything it accepts is self-consistent
// and survives an encode/parse round trip.
func FuzzParseSafetensors(f *testing.F) {
	for _, s := range safetensorsSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		file, err := ParseSafetensors(data, "fuzz")
		runtime.ReadMemStats(&after)
		// Parsing allocates the JSON structures (bounded by the header) and
		// tensors of at most twice the data size; allow generous slack.
		if d := after.TotalAlloc - before.TotalAlloc; d > uint64(64*len(data))+1<<20 {
			t.Fatalf("allocated %d bytes for a %d-byte input", d, len(data))
		}
		if err != nil {
			if file != nil {
				t.Fatal("non-nil File with an error")
			}
			return
		}
		if len(file.Names) != len(file.Tensors) {
			t.Fatalf("%d names for %d tensors", len(file.Names), len(file.Tensors))
		}
		for _, name := range file.Names {
			x, ok := file.Tensors[name]
			if !ok {
				t.Fatalf("name %q has no tensor", name)
			}
			checkTensorInvariants(t, name, x)
		}
		enc, err := EncodeSafetensors(file.Tensors, file.Metadata)
		if err != nil {
			t.Fatalf("re-encoding an accepted file: %v", err)
		}
		again, err := ParseSafetensors(enc, "re-encoded")
		if err != nil {
			t.Fatalf("parsing the re-encoded file: %v", err)
		}
		if len(again.Tensors) != len(file.Tensors) || len(again.Metadata) != len(file.Metadata) {
			t.Fatal("round trip changed the tensor or metadata count")
		}
		for name, x := range file.Tensors {
			if y := again.Tensors[name]; y == nil || !sameTensor(x, y) {
				t.Fatalf("round trip changed tensor %q", name)
			}
		}
		for k, v := range file.Metadata {
			if again.Metadata[k] != v {
				t.Fatalf("round trip changed metadata %q", k)
			}
		}
		enc2, _ := EncodeSafetensors(again.Tensors, again.Metadata)
		if !bytes.Equal(enc, enc2) {
			t.Fatal("encoding is not stable")
		}
	})
}

// npySeeds returns valid and malformed .npy inputs for the fuzz corpus.
func npySeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, x := range sampleTensors() {
		b, err := EncodeNpy(x)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	d8 := make([]byte, 8)
	seeds = append(seeds,
		rawNpy(2, numpyHeader(npyDict("<f8", "False", "(1,)"), 12), d8),
		rawNpy(3, numpyHeader(npyDict("<i4", "False", "(2, 1)"), 12), d8),
		rawNpy(1, npyDict("<f2", "False", "(2, 2)"), d8),
		rawNpy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,)}", d8),
		rawNpy(1, `{"shape": [], "descr": "<i8", "fortran_order": False}`, d8),
		rawNpy(1, npyDict("<f4", "True", "(2,)"), d8),
		rawNpy(1, npyDict(">f4", "False", "(2,)"), d8),
		rawNpy(1, npyDict("<f4", "False", "(-1,)"), d8),
		rawNpy(1, npyDict("<f4", "False", "(1099511627776,)"), d8),
		rawNpy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", d8),
		[]byte(npyMagic+"\x02\x00\xff\xff\xff\xff{}"),
		[]byte(npyMagic),
		nil,
	)
	return seeds
}

// FuzzParseNpy checks that ParseNpy never panics or allocates unboundedly,
// and that anything it accepts survives an encode/parse round trip.
func FuzzParseNpy(f *testing.F) {
	for _, s := range npySeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		x, err := ParseNpy(data, "fuzz.npy")
		runtime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > uint64(64*len(data))+1<<20 {
			t.Fatalf("allocated %d bytes for a %d-byte input", d, len(data))
		}
		if err != nil {
			if x != nil {
				t.Fatal("non-nil Tensor with an error")
			}
			return
		}
		checkTensorInvariants(t, "fuzz.npy", x)
		enc, err := EncodeNpy(x)
		if err != nil {
			t.Fatalf("re-encoding an accepted file: %v", err)
		}
		y, err := ParseNpy(enc, "re-encoded.npy")
		if err != nil {
			t.Fatalf("parsing the re-encoded file: %v", err)
		}
		if !sameTensor(x, y) {
			t.Fatal("round trip changed the tensor")
		}
		enc2, _ := EncodeNpy(y)
		if !bytes.Equal(enc, enc2) {
			t.Fatal("encoding is not stable")
		}
	})
}

// TestFuzzSeedsParse runs the seed corpora through the parsers outside the
// fuzzing engine, checking that the valid seeds are actually accepted (so
// that the fuzzers start from meaningful inputs).
func TestFuzzSeedsParse(t *testing.T) {
	st := safetensorsSeeds(t)
	for i, s := range st[:4] {
		if _, err := ParseSafetensors(s, "seed"); err != nil {
			t.Errorf("safetensors seed %d: %v", i, err)
		}
	}
	np := npySeeds(t)
	for i, s := range np[:len(sampleTensors())+5] {
		if _, err := ParseNpy(s, "seed"); err != nil {
			t.Errorf("npy seed %d: %v", i, err)
		}
	}
}

func TestNpyHugeClaimsDoNotAllocate(t *testing.T) {
	inputs := [][]byte{
		rawNpy(1, npyDict("<f4", "False", "(1099511627776,)"), make([]byte, 64)),
		rawNpy(1, npyDict("<f8", "False", "(1073741824, 1024)"), make([]byte, 64)),
		rawNpy(1, npyDict("<i8", "False", "(268435456,)"), make([]byte, 64)),
		[]byte(npyMagic + "\x03\x00\xff\xff\xff\x7f{}"),
	}
	for i, in := range inputs {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := ParseNpy(in, "huge.npy")
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatalf("input %d: no error", i)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("input %d: allocated %d bytes before failing (%v)", i, d, err)
		}
	}
}
