# gemulator in a container: the emulator's jar (every command, the load
# generator included) on a JRE 21, with the scenarios.
# Build: docker build -t gemulator:local .    Run: docker run --rm gemulator:local demo
FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /src
COPY pom.xml ./
COPY proto proto
COPY client client
COPY emulator emulator
COPY bench bench
COPY conformance conformance
COPY scenarios scenarios
RUN mvn -B -q -ntp -DskipTests package -pl proto,client,emulator -am

FROM eclipse-temurin:21-jre
WORKDIR /app
COPY --from=build /src/emulator/target/gemulator.jar /app/gemulator.jar
COPY docker/gemulator /app/gemulator
COPY scenarios /app/scenarios
COPY conformance /app/conformance
# traces and load results go here: docker-compose.yml mounts ./out of the host on it
RUN mkdir -p /out
ENTRYPOINT ["/app/gemulator"]
CMD ["demo"]
