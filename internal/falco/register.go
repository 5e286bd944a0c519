package falco

// The falco engine becomes the `fastly` target's runtime in the conformance suite once the suite passes on it
// (testrun.RegisterEngine(fastly.Name, NewEngine())); until then this package's tests use it directly.
