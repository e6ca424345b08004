module github.com/dlcompiler/dlc/bench/ort

go 1.26.8

require (
	github.com/dlcompiler/dlc v0.0.0
	github.com/yalue/onnxruntime_go v1.27.0
)

require (
	github.com/dave/jennifer v1.7.1 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/dlcompiler/dlc => ../..
