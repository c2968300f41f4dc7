//go:build race

package main

// raceDetector is on: a process test re-runs this binary as Herald, so Herald runs instrumented
// too, with several times the memory and CPU of a real build.
const raceDetector = true
