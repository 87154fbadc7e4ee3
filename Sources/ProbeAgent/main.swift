print("probe-agent: under construction")
