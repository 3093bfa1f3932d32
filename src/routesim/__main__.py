from routesim.cli import main

main()
