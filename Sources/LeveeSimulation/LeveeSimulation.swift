// LeveeSimulation: load generation, the Prescient oracle, baselines and scoring on simulated time.
