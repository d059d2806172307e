"""When requests start: load models (the closed model today; open-model
arrivals and stages next to it), and the clock they pace by."""
