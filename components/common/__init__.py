"""What every page shares: the app frame, kept values, cached resources, runs and views."""
