print("longrm placeholder")
