# gemulator in a container: the emulator and the client jar (load generator)
# on a JRE 21, with the scenarios.
# Build: docker build -t gemulator .    Run: docker run --rm gemulator demo
FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /src
COPY pom.xml ./
COPY proto proto
COPY emulator emulator
COPY client client
COPY bench bench
COPY conformance conformance
COPY scenarios scenarios
RUN mvn -B -q -ntp -DskipTests package -pl proto,emulator,client -am

FROM eclipse-temurin:21-jre
WORKDIR /app
COPY --from=build /src/emulator/target/gemulator.jar /app/gemulator.jar
COPY --from=build /src/client/target/gemulator-client.jar /app/gemulator-client.jar
COPY docker/gemulator /app/gemulator
COPY scenarios /app/scenarios
COPY conformance /app/conformance
ENTRYPOINT ["/app/gemulator"]
CMD ["demo"]
