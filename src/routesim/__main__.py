from routesim.cli import main

# Guarded: worker processes of parallel replications import the main module again.
if __name__ == "__main__":
    main()
