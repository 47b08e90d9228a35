"""Character intake: find the anime face in any picture and frame it to the input convention.

    locate      FaceLocator (tiny ONNX CNNs: find and refine the face outline, then the eyes
                and mouth, which frame the face by the convention's rule)
    background  flood-fill removal of a plain or gradient background
    frame       scale and move the face to the convention's target, pad or crop to 512x512
    prepare     prepare_image(): the whole step, with a list of everything it did
    scenes, train_locator, evaluate   build-time data, training and measurement
"""
