from pipeline.landing.seed import main

main()
